import { decodeCursor, encodeCursor, filterDigest } from "../../src/sources/eset/user-list/user-list.cursor";

const key = Buffer.alloc(32, 7);
const otherKey = Buffer.alloc(32, 8);
const digest = filterDigest({ protectionStatus: "PROTECTION_STATUS_UNPROTECTED", email: "contoso" });

describe("esetUserList cursors", () => {
  it("round-trips a position, whatever order the filter's parameters came in", () => {
    const cursor = encodeCursor({ pageToken: "b2Zmc2V0OjUw", skip: 3 }, digest, key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const sameFilter = filterDigest({ email: "contoso", protectionStatus: "PROTECTION_STATUS_UNPROTECTED" });
    expect(decodeCursor(cursor, sameFilter, key)).toEqual({ pageToken: "b2Zmc2V0OjUw", skip: 3 });
  });

  it("refuses a cursor from another filter, and tells it apart from a bad one", () => {
    const cursor = encodeCursor({ pageToken: "", skip: 1 }, digest, key);
    expect(decodeCursor(cursor, filterDigest({}), key)).toBe("other-filter");
  });

  it("refuses altered, truncated, foreign and made-up cursors", () => {
    const cursor = encodeCursor({ pageToken: "abc", skip: 1 }, digest, key);
    const [payload, mac] = cursor.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ v: 1, t: "other", s: 1, f: digest })).toString("base64url");
    for (const bad of [
      `${forged}.${mac}`,
      `${payload}.${mac.slice(1)}`,
      `${payload}x.${mac}`,
      payload,
      `${cursor}.x`,
      "",
      "not-a-cursor",
    ]) {
      expect(decodeCursor(bad, digest, key)).toBe("invalid");
    }
    expect(decodeCursor(cursor, digest, otherKey)).toBe("invalid");
  });

  it("refuses correctly signed positions outside the bounds (a page token over 128 characters, a skip beyond a page)", () => {
    // encodeCursor signs whatever it is given; decoding still checks every field.
    for (const position of [
      { pageToken: "x".repeat(129), skip: 0 },
      { pageToken: "", skip: 1001 },
      { pageToken: "", skip: -1 },
      { pageToken: "", skip: 1.5 },
    ]) {
      expect(decodeCursor(encodeCursor(position, digest, key), digest, key)).toBe("invalid");
    }
  });
});
