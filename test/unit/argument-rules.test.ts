import "reflect-metadata";
import { validate } from "class-validator";
import { DefenderUserArgs, DefenderUsersArgs } from "../../src/sources/defender/users/user.args";
import { EsetUserArgs, EsetUsersArgs } from "../../src/sources/eset/users/user.args";
import { PersonArgs } from "../../src/people/person.args";
import { DefenderMachineArgs, RelationListArgs } from "../../src/sources/defender/machines/machine.args";
import { RelatedAlertsArgs } from "../../src/sources/defender/alerts/alert.args";
import { AlertSeverity, AlertStatus } from "../../src/sources/defender/alerts/alert.enums";

/** The hot-path quick checks must never accept what class-validator refuses (and should accept what it accepts). */
const samples = [
  "user1",
  "contoso\\alice",
  "名前",
  "o'brien j",
  "x..",
  "a b",
  "user1@contoso.com",
  "6f0d6c2e-3b5a-4b8e-9d3c-1a2b3c4d5e6f",
  "usr_01HZX3K9A7",
  "",
  ".",
  "..",
  "../x",
  "a/b",
  "a\\b\\c",
  "ctl\u0007",
  "rtl\u202Eover",
  "zw\u200Bsp",
  "x".repeat(100),
  "x".repeat(101),
  "x".repeat(256),
  "x".repeat(257),
  "semi;colon",
  "star*",
  "q?",
  "tab\tx",
  "名/前",
  ":",
  "a:b",
  "~tilde",
  "-dash",
];

async function classValidatorAccepts(instance: object): Promise<boolean> {
  return (await validate(instance, { forbidUnknownValues: false })).length === 0;
}

function make<T extends object>(cls: new () => T, values: Partial<T>): T {
  return Object.assign(new cls(), values);
}

describe("argument quick checks agree with class-validator", () => {
  it.each(samples)("single ids: %j", async (id) => {
    const d = make(DefenderUserArgs, { id });
    expect(DefenderUserArgs.isPlainlyValid(d)).toBe(await classValidatorAccepts(d));
    const e = make(EsetUserArgs, { uuid: id });
    expect(EsetUserArgs.isPlainlyValid(e)).toBe(await classValidatorAccepts(e));
  });

  it.each([[["user1", "contoso\\alice"]], [[]], [["ok", "a/b"]], [["usr_1", "名前"]]])("lists: %j", async (ids) => {
    const d = make(DefenderUsersArgs, { ids });
    expect(DefenderUsersArgs.isPlainlyValid(d)).toBe(await classValidatorAccepts(d));
    const e = make(EsetUsersArgs, { uuids: ids });
    expect(EsetUsersArgs.isPlainlyValid(e)).toBe(await classValidatorAccepts(e));
  });

  it.each([
    ...samples,
    "alice@contoso.com",
    "Alice@Contoso.COM",
    "contoso\\alice",
    "CORP\\dmiller",
    "alice_fabrikam.com#EXT#@contoso.onmicrosoft.com",
    "a@b",
    "@contoso.com",
    "alice@",
    "a@b@c.com",
    "al ice@contoso.com",
    "a/b@contoso.com",
    "alice@contoso..com",
    "contoso\\",
    "\\alice",
    "alice@xn--bcher-kva.example",
    "alice@bücher.example",
    `${"x".repeat(308)}@contoso.com`,
    `${"x".repeat(309)}@contoso.com`,
  ])("person refs: %j", async (ref) => {
    const p = make(PersonArgs, { ref });
    expect(PersonArgs.isPlainlyValid(p)).toBe(await classValidatorAccepts(p));
  });

  it.each([
    ...samples,
    "7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c2e4b6d8f0a",
    "alice-laptop",
    "alice-laptop.contoso.com",
    "ALICE-LAPTOP",
    "a",
    "a.",
    ".a",
    "-a",
    "a-",
    "host_name",
    "a".repeat(255),
    "a".repeat(256),
    "fs01.contoso.com/../x",
    "fs01%2F",
    "fs01 contoso",
  ])("machine keys: %j", async (id) => {
    const m = make(DefenderMachineArgs, { id });
    expect(DefenderMachineArgs.isPlainlyValid(m)).toBe(await classValidatorAccepts(m));
  });

  it.each([undefined, null, 0, 1, 20, 100, 101, -1, 2.5, Number.NaN])("relation firsts: %j", async (first) => {
    const r = make(RelationListArgs, { first: first as number | null | undefined });
    expect(RelationListArgs.isPlainlyValid(r)).toBe(await classValidatorAccepts(r));
    for (const since of [undefined, null, new Date("2026-11-25T00:00:00Z"), new Date(Number.NaN)]) {
      const a = make(RelatedAlertsArgs, { first: first as number | null | undefined, since });
      expect(RelatedAlertsArgs.isPlainlyValid(a)).toBe(await classValidatorAccepts(a));
    }
    // With status or minSeverity the quick check steps aside: it must never accept what class-validator refuses.
    for (const extra of [
      { status: [AlertStatus.NEW] },
      { status: Array(6).fill(AlertStatus.NEW) },
      { minSeverity: AlertSeverity.HIGH },
      { status: null, minSeverity: null },
    ]) {
      const a = make(RelatedAlertsArgs, { first: first as number | null | undefined, ...extra });
      if (RelatedAlertsArgs.isPlainlyValid(a)) expect(await classValidatorAccepts(a)).toBe(true);
    }
  });
});
