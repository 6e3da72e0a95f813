import "reflect-metadata";
import { execute, parse } from "graphql";
import { allScopes } from "../../src/auth/scopes";
import { buildAppSchema } from "../../src/schema";

/**
 * Defence in depth: the resolvers refuse an id list over its limit on their own, so an operation that got
 * past the cost plugin (executed here without Apollo and its plugins) still never reaches a loader.
 */
describe("id-list limits in the resolvers", () => {
  it.each([
    ["defenderUsers", "ids", "MAX_DEFENDER_IDS"],
    ["esetUsers", "uuids", "MAX_ESET_IDS"],
  ])("refuses %s(%s:) over its limit before any load, naming %s", async (field, arg, setting) => {
    const schema = await buildAppSchema();
    let loads = 0;
    const loader = { load: () => (loads++, null) };
    const contextValue = {
      principal: { kind: "open", subject: "test", scopes: new Set(allScopes()) },
      maxListIds: { defenderUsers: 2, esetUsers: 2 },
      loaders: { defenderUser: loader, esetUser: loader },
    };
    const selection = field === "defenderUsers" ? "id" : "uuid";
    const over = await execute({ schema, document: parse(`{ ${field}(${arg}: ["a1", "a2", "a3"]) { ${selection} } }`), contextValue });
    expect(over.errors?.[0]?.message).toBe(`${field}(${arg}:) has 3 ids; the limit is 2 (${setting}).`);
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: setting, max: 2, actual: 3 });
    expect(loads).toBe(0);
    const within = await execute({ schema, document: parse(`{ ${field}(${arg}: ["a1", "a2"]) { ${selection} } }`), contextValue });
    expect(within.errors).toBeUndefined();
    expect(loads).toBe(2);
  });
});
