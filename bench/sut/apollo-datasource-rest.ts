import "reflect-metadata";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { RESTDataSource } from "@apollo/datasource-rest";
import { toDefenderUser } from "../../src/sources/defender/users/user.mapper";
import { toEsetUser } from "../../src/sources/eset/users/user.mapper";
import { simulatorTokens } from "../children";
import type { DefenderUserDto } from "../../src/sources/defender/dto";
import type { EsetUserDto } from "../../src/sources/eset/dto";
import { ready } from "./common";

/**
 * (c) The usual alternative: Apollo Server 5 + @apollo/datasource-rest as their docs show it — the same
 * SDL, a RESTDataSource per API created per request in the context, `willSendRequest` adding the bearer
 * token, one GET per id (datasource-rest dedups identical GETs within a request), startStandaloneServer.
 * It reuses usergraph's mappers so both answer the same JSON.
 */
const sim = process.env.SIM_URL!;

class DefenderAPI extends RESTDataSource {
  override baseURL = `${sim}/api/`;
  constructor(private readonly accessToken: string) {
    super();
  }
  override willSendRequest(_path: string, request: { headers: Record<string, string> }) {
    request.headers.authorization = `Bearer ${this.accessToken}`;
  }
  async getUser(id: string): Promise<DefenderUserDto | null> {
    try {
      return await this.get<DefenderUserDto>(`users/${encodeURIComponent(id)}`);
    } catch (err) {
      if ((err as { extensions?: { response?: { status?: number } } }).extensions?.response?.status === 404) return null;
      throw err;
    }
  }
}

class EsetAPI extends RESTDataSource {
  override baseURL = `${sim}/v1/`;
  constructor(private readonly accessToken: string) {
    super();
  }
  override willSendRequest(_path: string, request: { headers: Record<string, string> }) {
    request.headers.authorization = `Bearer ${this.accessToken}`;
  }
  async getUser(uuid: string): Promise<EsetUserDto | null> {
    try {
      return (await this.get<{ user: EsetUserDto }>(`users/${encodeURIComponent(uuid)}`)).user;
    } catch (err) {
      if ((err as { extensions?: { response?: { status?: number } } }).extensions?.response?.status === 404) return null;
      throw err;
    }
  }
}

interface Ctx {
  dataSources: { defender: DefenderAPI; eset: EsetAPI };
}

async function main(): Promise<void> {
  const { defender: defenderToken, eset: esetToken } = await simulatorTokens(process.env.DEFENDER_TOKEN_URL!, process.env.ESET_TOKEN_URL!);
  const typeDefs = readFileSync(join(__dirname, "..", "..", "..", "schema", "schema.graphql"), "utf8");
  const noop = () => {};
  const server = new ApolloServer<Ctx>({
    typeDefs,
    resolvers: {
      Query: {
        defenderUser: (_: unknown, { id }: { id: string }, { dataSources }: Ctx) =>
          dataSources.defender.getUser(id).then((u) => u && toDefenderUser(u)),
        defenderUsers: (_: unknown, { ids }: { ids: string[] }, { dataSources }: Ctx) =>
          ids.map((id) => dataSources.defender.getUser(id).then((u) => u && toDefenderUser(u))),
        esetUser: (_: unknown, { uuid }: { uuid: string }, { dataSources }: Ctx) =>
          dataSources.eset.getUser(uuid).then((u) => u && toEsetUser(u, noop)),
        esetUsers: (_: unknown, { uuids }: { uuids: string[] }, { dataSources }: Ctx) =>
          uuids.map((uuid) => dataSources.eset.getUser(uuid).then((u) => u && toEsetUser(u, noop))),
      },
    },
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async () => ({ dataSources: { defender: new DefenderAPI(defenderToken), eset: new EsetAPI(esetToken) } }),
  });
  ready({ url });
}

void main();
