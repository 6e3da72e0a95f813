import { CircuitBreaker, type CallTicket, type CircuitOptions, type CircuitState } from "../../src/upstream/circuit-breaker";
import { UpstreamError } from "../../src/upstream/upstream-error";

// Every rule of the breaker on an injected clock: no test here waits for real time.
const DEFAULTS: CircuitOptions = { minimumRequests: 5, failureRate: 0.5, windowMs: 10_000, openMs: 30_000 };

function breakerOn(options: Partial<CircuitOptions> = {}) {
  const clock = { now: 1_000_000 };
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker(
    "DEFENDER",
    { ...DEFAULTS, ...options },
    (state) => changes.push(state),
    () => clock.now,
  );
  const calls = (n: number, outcome: "success" | "failure" | "neutral") => {
    for (let i = 0; i < n; i++) {
      const ticket = breaker.beforeCall();
      if (outcome === "success") breaker.recordSuccess(ticket);
      else if (outcome === "failure") breaker.recordFailure(ticket);
      else breaker.recordNeutral(ticket);
    }
  };
  const refusal = () => {
    try {
      breaker.beforeCall();
    } catch (err) {
      return err as UpstreamError;
    }
    return undefined;
  };
  return { breaker, clock, changes, calls, refusal };
}

describe("CircuitBreaker", () => {
  it("does not judge the failure rate below the minimum number of requests in the window", () => {
    const { breaker, calls } = breakerOn();
    calls(4, "failure");
    expect(breaker.state).toBe("closed");
    calls(1, "failure");
    expect(breaker.state).toBe("open");
  });

  it("opens only when more than the failure rate of the requests failed", () => {
    const { breaker, calls } = breakerOn({ failureRate: 0.25 });
    calls(9, "success");
    calls(3, "failure"); // exactly 25 %
    expect(breaker.state).toBe("closed");
    calls(1, "failure"); // 4 of 13
    expect(breaker.state).toBe("open");
  });

  it("stays closed under a failure rate at the threshold, however many failures in a row", () => {
    const { breaker, calls } = breakerOn();
    calls(50, "success");
    calls(50, "failure");
    expect(breaker.state).toBe("closed");
    calls(1, "failure");
    expect(breaker.state).toBe("open");
  });

  it("judges only the requests of the last window", () => {
    const { breaker, clock, calls } = breakerOn();
    calls(4, "failure");
    clock.now += 8_000;
    calls(1, "failure"); // five in the last 10 s
    expect(breaker.state).toBe("open");
  });

  it("forgets requests older than the window, however few came since", () => {
    const { breaker, clock, calls } = breakerOn();
    calls(4, "failure");
    clock.now += 10_000;
    calls(1, "failure");
    expect(breaker.state).toBe("closed");
    clock.now += 3_600_000;
    calls(3, "failure");
    expect(breaker.state).toBe("closed"); // four failures an hour apart are not five in 10 s
  });

  it("forgets the old part of the window while it still counts the recent part", () => {
    const { breaker, clock, calls } = breakerOn();
    calls(4, "failure");
    clock.now += 5_000;
    calls(1, "success");
    clock.now += 5_000;
    calls(3, "failure"); // the window holds 1 success and 3 failures: too few to judge
    expect(breaker.state).toBe("closed");
    calls(1, "failure"); // 4 of 5
    expect(breaker.state).toBe("open");
  });

  it("does not count a 4xx answer in the rate, neither as a success nor as a failure", () => {
    const { breaker, calls } = breakerOn();
    calls(10, "neutral");
    calls(4, "failure");
    expect(breaker.state).toBe("closed");
    calls(1, "failure");
    expect(breaker.state).toBe("open");
  });

  it("fails fast while open, with the seconds left until a probe as retryAfter", () => {
    const { clock, calls, refusal } = breakerOn();
    calls(5, "failure");
    expect(refusal()).toMatchObject({ kind: "circuit-open", source: "DEFENDER", retryAfter: 30 });
    expect(refusal()).toBeInstanceOf(UpstreamError);
    clock.now += 12_500;
    expect(refusal()?.retryAfter).toBe(18);
    clock.now += 17_499;
    expect(refusal()?.retryAfter).toBe(1);
  });

  it("lets exactly one probe through once the open time is over, and fails fast the callers behind it", () => {
    const { breaker, clock, changes, calls, refusal } = breakerOn();
    calls(5, "failure");
    clock.now += 29_999;
    expect(breaker.state).toBe("open");
    expect(refusal()).toBeDefined();
    clock.now += 1;
    expect(breaker.state).toBe("half-open");
    const probe = breaker.beforeCall();
    expect(probe.probe).toBe(true);
    expect(refusal()).toMatchObject({ kind: "circuit-open", retryAfter: 1 });
    expect(changes).toEqual(["open", "half-open"]);
  });

  it("closes when the probe succeeds, and judges afresh without the failures that opened it", () => {
    const { breaker, clock, changes, calls } = breakerOn({ openMs: 1_000 });
    calls(5, "failure");
    clock.now += 1_000;
    breaker.recordSuccess(breaker.beforeCall());
    expect(breaker.state).toBe("closed");
    expect(changes).toEqual(["open", "half-open", "closed"]);
    calls(3, "failure"); // within the same 10 s as the five that opened it
    expect(breaker.state).toBe("closed");
    expect(breaker.beforeCall().probe).toBe(false);
  });

  it("closes when the probe gets a 4xx: the vendor answers", () => {
    const { breaker, clock, calls } = breakerOn();
    calls(5, "failure");
    clock.now += 30_000;
    breaker.recordNeutral(breaker.beforeCall());
    expect(breaker.state).toBe("closed");
  });

  it("opens again for a full open time when the probe fails", () => {
    const { breaker, clock, changes, calls, refusal } = breakerOn();
    calls(5, "failure");
    clock.now += 30_000;
    breaker.recordFailure(breaker.beforeCall());
    expect(breaker.state).toBe("open");
    expect(refusal()?.retryAfter).toBe(30);
    clock.now += 29_999;
    expect(refusal()).toBeDefined();
    clock.now += 1;
    expect(breaker.beforeCall().probe).toBe(true);
    expect(changes).toEqual(["open", "half-open", "open", "half-open"]);
  });

  it("lets the next caller probe when the probe never went out", () => {
    const { breaker, clock, calls, refusal } = breakerOn();
    calls(5, "failure");
    clock.now += 30_000;
    const probe = breaker.beforeCall();
    expect(refusal()).toBeDefined();
    breaker.releaseProbe(probe);
    const next = breaker.beforeCall();
    expect(next.probe).toBe(true);
    breaker.recordSuccess(next);
    expect(breaker.state).toBe("closed");
  });

  it("closes or opens only on the probe's result, not on an answer to a request sent before", () => {
    const { breaker, clock, calls } = breakerOn();
    const early = [breaker.beforeCall(), breaker.beforeCall()];
    calls(5, "failure");
    breaker.recordSuccess(early[0]); // a late answer from before it opened
    expect(breaker.state).toBe("open");
    clock.now += 30_000;
    const probe = breaker.beforeCall();
    breaker.recordSuccess(early[1]);
    expect(breaker.state).toBe("half-open");
    breaker.recordFailure(probe);
    expect(breaker.state).toBe("open");
  });

  it("ignores late failures from before the circuit closed", () => {
    const { breaker, clock, calls } = breakerOn({ openMs: 1_000 });
    const early: CallTicket[] = Array.from({ length: 5 }, () => breaker.beforeCall());
    calls(5, "failure");
    clock.now += 1_000;
    breaker.recordSuccess(breaker.beforeCall());
    for (const ticket of early) breaker.recordFailure(ticket);
    expect(breaker.state).toBe("closed");
  });

  it("ignores late successes from before the circuit closed", () => {
    const { breaker, clock, calls } = breakerOn({ openMs: 1_000 });
    const early: CallTicket[] = Array.from({ length: 10 }, () => breaker.beforeCall());
    calls(5, "failure");
    clock.now += 1_000;
    breaker.recordSuccess(breaker.beforeCall());
    for (const ticket of early) breaker.recordSuccess(ticket);
    calls(4, "failure"); // 4 of the 5 requests since it closed
    expect(breaker.state).toBe("open");
  });
});
