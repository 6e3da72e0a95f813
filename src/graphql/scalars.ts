import { DateTimeResolver } from "graphql-scalars";

/** RFC 3339 date-time (graphql-scalars `DateTime`): the timestamps both vendors send, normalised to UTC. */
export const DateTimeScalar = DateTimeResolver;
