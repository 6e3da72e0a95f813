import { registerEnumType } from "type-graphql";

/** Which way a list is ordered. */
export enum OrderDirection {
  ASC = "ASC",
  DESC = "DESC",
}

registerEnumType(OrderDirection, {
  name: "OrderDirection",
  description: "Which way a list is ordered.",
  valuesConfig: {
    ASC: { description: "Smallest (lowest, oldest, A) first." },
    DESC: { description: "Largest (highest, newest, Z) first." },
  },
});
