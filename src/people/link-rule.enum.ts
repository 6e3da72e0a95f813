import { registerEnumType } from "type-graphql";

export enum LinkRule {
  DOMAIN_USER = "DOMAIN_USER",
  ALERT_EVIDENCE = "ALERT_EVIDENCE",
  UPN = "UPN",
  EMAIL = "EMAIL",
  BARE_USER_NAME = "BARE_USER_NAME",
}

registerEnumType(LinkRule, {
  name: "LinkRule",
  description:
    "The matching rule that links an ESET user to a Defender account, strongest first. Values are compared whole and without case, never as substrings. The README lists each rule's blind spots.",
  valuesConfig: {
    DOMAIN_USER: {
      description:
        'An ESET identity reads DOMAIN\\user (e.g. "contoso\\alice") and so does the Defender account: both parts equal. The strongest rule.',
    },
    ALERT_EVIDENCE: {
      description:
        'A Defender alert read in the same request has a User evidence item naming the account (domainName\\accountName) together with its userPrincipalName, and that UPN is one of the ESET user\'s identities or addresses, whole: Defender\'s own proof, so it links "dave.miller@northwind.example" ↔ "corp\\dmiller" where the UPN rule cannot guess the NetBIOS name. Used when the request has the alerts at hand (select alerts { evidence } next to the links).',
    },
    UPN: {
      description:
        'An ESET identity user@dns.name (a UPN) has the Defender account\'s user name before the @ and its domain as the first DNS label: "alice@contoso.com" ↔ "contoso\\alice". Misses domains whose NetBIOS name differs from the first DNS label.',
    },
    EMAIL: {
      description:
        'An ESET e-mail address (primary, proxy/alias, or an EMAIL_ADDRESS identity) compared like a UPN: "cjones@fabrikam.com" ↔ "fabrikam\\cjones". Weaker: aliases and shared mailboxes need not belong to the account\'s owner.',
    },
    BARE_USER_NAME: {
      description:
        'The Defender account has no domain ("user1") and an ESET UPN\'s user part is that name ("user1@contoso.com"), the mapping Microsoft documents for Defender user ids. The weakest rule: the domain cannot be checked.',
    },
  },
});
