import "reflect-metadata";
import { execute, parse, type GraphQLResolveInfo } from "graphql";
import { Ctx, Field, FieldResolver, ObjectType, Query, Resolver } from "type-graphql";
import { MissingScopeError } from "../../src/auth/missing-scope.error";
import { PartScopes } from "../../src/auth/part-scopes";
import { scopeOf } from "../../src/auth/scopes";
import type { Context } from "../../src/context";
import { buildSubgraphAppSchema } from "../../src/federation/subgraph-schema";
import type { GraphPart } from "../../src/graphql/graph-part";
import { peoplePart } from "../../src/people/register";
import { buildAppSchema } from "../../src/schema";
import { defenderPart } from "../../src/sources/defender/register";
import { DefenderUserResolver } from "../../src/sources/defender/users/user.resolver";
import { DefenderUser } from "../../src/sources/defender/users/user.type";
import { esetPart } from "../../src/sources/eset/register";
import { EsetUserResolver } from "../../src/sources/eset/users/user.resolver";
import type { SourceName } from "../../src/upstream/source";

/**
 * A resolver is protected by the part it is registered in, not by a call it has to remember: these probes
 * make no scope call and read no context, and are still refused to a caller without their part's scope.
 * What the core cannot place (a part naming no source, a class in two parts, a field computed on its
 * type class, an entity no part declares) stops the start-up.
 */
let reached: string[] = [];

@Resolver()
class ProbeRootResolver {
  @Query(() => String, { nullable: true })
  defenderProbe(): string {
    reached.push("defenderProbe");
    return "reached";
  }
}

/** Hands out a Defender user without any call, so that a relation on it can be tried on its own. */
@Resolver()
class ProbeUserResolver {
  @Query(() => DefenderUser, { nullable: true })
  probeUser(): DefenderUser {
    reached.push("probeUser");
    return Object.assign(new DefenderUser(), { id: "contoso\\probe" });
  }
}

@Resolver(() => DefenderUser)
class ProbeRelationResolver {
  @FieldResolver(() => String, { nullable: true })
  probe(): string {
    reached.push("probe");
    return "reached";
  }
}

@ObjectType()
class Gadget {
  @Field(() => String)
  secret(@Ctx() ctx: Context): string {
    return ctx.requestId;
  }
}

@Resolver()
class GadgetResolver {
  @Query(() => Gadget, { nullable: true })
  gadget(): Gadget {
    return new Gadget();
  }
}

/** A context holding only a principal: anything that reached further than the scope check would fail on it. */
function contextFor(held: readonly SourceName[]): Context {
  return { principal: { kind: "api-key", subject: "probe", scopes: new Set(held.map((s) => scopeOf(s))) } } as unknown as Context;
}

const withProbes = (part: GraphPart, ...probes: GraphPart["resolvers"]): GraphPart => ({
  ...part,
  resolvers: [...part.resolvers, ...probes],
});

beforeEach(() => {
  reached = [];
});

describe("a resolver added to a part without any scope call", () => {
  it("is refused to a caller without the part's scope, before it runs, and served with it", async () => {
    const schema = await buildAppSchema([withProbes(defenderPart, ProbeRootResolver), esetPart, peoplePart]);
    const refused = await execute({ schema, document: parse("{ defenderProbe }"), contextValue: contextFor(["ESET"]) });
    expect(refused.data).toEqual({ defenderProbe: null });
    expect(refused.errors![0]!.originalError).toEqual(new MissingScopeError("DEFENDER", "defender:users:read"));
    expect(reached).toEqual([]);

    const served = await execute({ schema, document: parse("{ defenderProbe }"), contextValue: contextFor(["DEFENDER"]) });
    expect(served).toEqual({ data: { defenderProbe: "reached" } });
  });

  it("guards a relation by its own part, whatever part served the parent", async () => {
    // The parent comes from an ESET-part query; the relation on it was registered with Defender.
    const schema = await buildAppSchema([
      withProbes(defenderPart, ProbeRelationResolver),
      withProbes(esetPart, ProbeUserResolver),
      peoplePart,
    ]);
    const result = await execute({ schema, document: parse("{ probeUser { id probe } }"), contextValue: contextFor(["ESET"]) });
    expect(result.data).toEqual({ probeUser: { id: "contoso\\probe", probe: null } });
    expect(result.errors!.map((e) => [e.path, (e.originalError as MissingScopeError).source])).toEqual([
      [["probeUser", "probe"], "DEFENDER"],
    ]);
    expect(reached).toEqual(["probeUser"]);
  });

  it("needs every source a cross-vendor part reads, unless the part narrows that field", async () => {
    const schema = await buildAppSchema([
      defenderPart,
      withProbes(esetPart, ProbeUserResolver),
      withProbes(peoplePart, ProbeRelationResolver),
    ]);
    const eset = await execute({ schema, document: parse("{ probeUser { probe } }"), contextValue: contextFor(["ESET"]) });
    expect((eset.errors![0]!.originalError as MissingScopeError).source).toBe("DEFENDER");
    const both = await execute({ schema, document: parse("{ probeUser { probe } }"), contextValue: contextFor(["DEFENDER", "ESET"]) });
    expect(both).toEqual({ data: { probeUser: { probe: "reached" } } });
    expect(reached).toEqual(["probeUser", "probeUser", "probe"]);
  });
});

describe("what the core cannot place is refused", () => {
  const info = { parentType: { name: "Query" }, fieldName: "esetUser" } as unknown as GraphQLResolveInfo;

  it("refuses a resolver class no part registered", () => {
    const container = new PartScopes([defenderPart]);
    expect(() => container.get(EsetUserResolver, { root: undefined, args: {}, context: contextFor(["DEFENDER", "ESET"]), info })).toThrow(
      "the resolver class EsetUserResolver belongs to no part of the graph",
    );
  });

  it("stops the start-up on a part that names no source, or a field that reads outside its part", async () => {
    await expect(buildAppSchema([{ ...defenderPart, reads: [] }, esetPart, peoplePart])).rejects.toThrow(
      "DEFENDER names no source in reads",
    );
    await expect(buildAppSchema([defenderPart, esetPart, { ...peoplePart, reads: ["ESET"] }])).rejects.toThrow(
      "PEOPLE's fieldReads of Query.person must name some of the part's reads (ESET)",
    );
  });

  it("stops the start-up on a resolver class registered by two parts", async () => {
    await expect(buildAppSchema([defenderPart, withProbes(esetPart, DefenderUserResolver), peoplePart])).rejects.toThrow(
      "DefenderUserResolver is registered by two parts of the graph",
    );
  });

  it("stops the start-up on a field computed by a method of its type class, which no container sees", async () => {
    await expect(buildAppSchema([withProbes(defenderPart, GadgetResolver), esetPart, peoplePart])).rejects.toThrow(
      "Gadget.secret is a method of the type class",
    );
  });

  it("stops the federation subgraph's start-up on an entity no part declares", async () => {
    await expect(buildSubgraphAppSchema([defenderPart, { ...esetPart, entityLists: {} }, peoplePart])).rejects.toThrow(
      "the entity EsetUser must be declared (entityLists) by exactly one part of the graph",
    );
  });
});
