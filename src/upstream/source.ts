/** The two upstream products usergraph reads users from. The string is what `extensions.source` carries. */
export type SourceName = "DEFENDER" | "ESET";
