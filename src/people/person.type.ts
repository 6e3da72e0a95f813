import { Field, ObjectType } from "type-graphql";
import type { PersonFound } from "./link-finder";

@ObjectType({
  description:
    'One person as both products see them: the Defender accounts and ESET users a reference names, one hop of links from each to the other side, and every link among them. For a dashboard\'s "who is this" panel.',
})
export class Person {
  @Field(() => String, { description: "The reference asked for, as given." })
  ref!: string;

  /** What the lookup found per side; PersonResolver's field resolvers serve it (or throw a side's error). Not a schema field. */
  found!: PersonFound;
}
