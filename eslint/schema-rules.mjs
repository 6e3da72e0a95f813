// usergraph's own schema lint rules: contract checks @graphql-eslint has no rule for (it checks style,
// descriptions and naming; these check what DESIGN.md promises). Each reads the AST @graphql-eslint's
// parser gives (GraphQL nodes with `gqlType` for a field's type) and takes its exceptions as options, so
// every exception is written down, with its reason, in eslint.config.mjs.

/** The named type under NonNull/List wrappers. */
const namedType = (t) => (t.gqlType ? namedType(t.gqlType) : t.name.value);
const ownerName = (node) => node.name.value;

/** Which vendor a type belongs to, by its name's prefix (options.sources: { SOURCE: [prefixes] }). */
const sourceOf = (sources, typeName) => Object.entries(sources).find(([, prefixes]) => prefixes.some((p) => typeName.startsWith(p)))?.[0];

const nullableCrossSource = {
  meta: {
    type: "problem",
    docs: { description: "A field of one vendor's type that returns another vendor's type must be nullable (it fails alone)." },
    schema: [
      {
        type: "object",
        properties: { sources: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } } },
        required: ["sources"],
        additionalProperties: false,
      },
    ],
    messages: {
      nonNull:
        "{{type}}.{{field}} reaches {{to}} from a {{from}} type: make it nullable, so that {{to}} failing nulls it alone and not the {{type}} (DESIGN.md: every relation field is nullable and fails alone).",
    },
  },
  create(context) {
    const { sources } = context.options[0];
    return {
      "ObjectTypeDefinition,ObjectTypeExtension"(node) {
        const from = sourceOf(sources, ownerName(node));
        if (!from) return;
        for (const field of node.fields ?? []) {
          const to = sourceOf(sources, namedType(field.gqlType));
          if (to && to !== from && field.gqlType.type === "NonNullType")
            context.report({
              node: field.gqlType,
              messageId: "nonNull",
              data: { type: ownerName(node), field: field.name.value, from, to },
            });
        }
      },
    };
  },
};

const idFieldsTypedId = {
  meta: {
    type: "suggestion",
    docs: { description: "A field named …Id or …Ids holds an identifier: type it ID (or list of ID), unless allowed with a reason." },
    schema: [
      {
        type: "object",
        properties: { allow: { type: "object", additionalProperties: { type: "string", minLength: 10 } } },
        additionalProperties: false,
      },
    ],
    messages: {
      notId: "{{coordinate}} is named as an id but typed {{actual}}: type it ID, or allow it in eslint.config.mjs with the reason.",
    },
  },
  create(context) {
    const allow = context.options[0]?.allow ?? {};
    const check = (owner, fields) => {
      for (const field of fields ?? []) {
        const coordinate = `${ownerName(owner)}.${field.name.value}`;
        const actual = namedType(field.gqlType);
        if (/[a-z](Id|Ids)$/.test(field.name.value) && actual !== "ID" && !(coordinate in allow))
          context.report({ node: field.name, messageId: "notId", data: { coordinate, actual } });
      }
    };
    return {
      "ObjectTypeDefinition,ObjectTypeExtension,InterfaceTypeDefinition,InputObjectTypeDefinition"(node) {
        check(node, node.fields);
      },
    };
  },
};

const oneFallbackEnumValue = {
  meta: {
    type: "suggestion",
    docs: {
      description:
        "An enum with usergraph's fallback UNSPECIFIED has no second 'do not know' value (UNKNOWN, OTHER), unless allowed as a vendor's own value with a reason.",
    },
    schema: [
      {
        type: "object",
        properties: { allow: { type: "object", additionalProperties: { type: "string", minLength: 10 } } },
        additionalProperties: false,
      },
    ],
    messages: {
      second:
        "{{coordinate}} is a second 'do not know' value next to UNSPECIFIED: clients cannot tell them apart. Drop it, or allow it in eslint.config.mjs as the vendor's own value with the reason.",
    },
  },
  create(context) {
    const allow = context.options[0]?.allow ?? {};
    return {
      EnumTypeDefinition(node) {
        const values = (node.values ?? []).map((v) => v.name.value);
        if (!values.includes("UNSPECIFIED")) return;
        for (const value of node.values) {
          const coordinate = `${ownerName(node)}.${value.name.value}`;
          if (["UNKNOWN", "OTHER"].includes(value.name.value) && !(coordinate in allow))
            context.report({ node: value.name, messageId: "second", data: { coordinate } });
        }
      },
    };
  },
};

export default {
  meta: { name: "usergraph-schema" },
  rules: {
    "nullable-cross-source": nullableCrossSource,
    "id-fields-typed-id": idFieldsTypedId,
    "one-fallback-enum-value": oneFallbackEnumValue,
  },
};
