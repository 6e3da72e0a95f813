import { parseAtName, parseDomainUser } from "../../src/people/account-names";
import {
  accountEvidence,
  defenderCandidates,
  esetSearchTerms,
  matchReasons,
  probeFor,
  type DefenderSide,
  type EsetSide,
} from "../../src/people/link-rules";

const eset = (over: Partial<EsetSide> = {}): EsetSide => ({ identities: [], primaryEmailAddress: null, proxyEmailAddresses: [], ...over });
const upn = (value: string) => ({ userName: value, providerReference: value, providerReferenceFormat: "USER_PRINCIPAL_NAME" });
const userName = (value: string) => ({ userName: value, providerReference: null, providerReferenceFormat: "USER_NAME" });
const account = (id: string, accountName: string | null = null, accountDomain: string | null = null): DefenderSide => ({
  id,
  accountName,
  accountDomain,
});
const rules = (e: EsetSide, d: DefenderSide) => matchReasons(e, d).map((r) => r.rule);

describe("account names", () => {
  it("parses DOMAIN\\user and user@dns strictly, folding case", () => {
    expect(parseDomainUser("CONTOSO\\Alice")).toEqual({ domain: "contoso", user: "alice" });
    for (const bad of ["alice", "\\alice", "contoso\\", "a\\b\\c", "user@x\\y", "nt authority\\system"])
      expect(parseDomainUser(bad)).toBeUndefined();
    expect(parseAtName("Alice@Contoso.COM")).toEqual({ user: "alice", domain: "contoso.com", label: "contoso", guest: false });
    expect(parseAtName("alice_fabrikam.com#EXT#@contoso.onmicrosoft.com")?.guest).toBe(true);
    for (const bad of ["alice", "@contoso.com", "alice@", "a@b@c.com", "al ice@contoso.com", "alice@contoso..com", "alice@-x.com"])
      expect(parseAtName(bad)).toBeUndefined();
  });
});

describe("matchReasons", () => {
  it("links by each rule, strongest first, naming both values and where the ESET one came from", () => {
    const alice = eset({
      identities: [upn("alice@contoso.com"), userName("contoso\\alice")],
      primaryEmailAddress: "alice@contoso.com",
      proxyEmailAddresses: ["alice.example@contoso.com"],
    });
    expect(matchReasons(alice, account("contoso\\alice", "alice", "contoso"))).toEqual([
      { rule: "DOMAIN_USER", esetField: "identities[1].userName", esetValue: "contoso\\alice", defenderValue: "contoso\\alice" },
      { rule: "UPN", esetField: "identities[0].userName", esetValue: "alice@contoso.com", defenderValue: "contoso\\alice" },
      { rule: "EMAIL", esetField: "primaryEmailAddress", esetValue: "alice@contoso.com", defenderValue: "contoso\\alice" },
    ]);
    expect(rules(alice, account("contoso\\alice.example"))).toEqual(["EMAIL"]);
    expect(rules(alice, account("alice"))).toEqual(["BARE_USER_NAME"]);
  });

  it("compares whole values without case and never as substrings: user1 is not user10", () => {
    const user1 = eset({ identities: [upn("User1@Contoso.com")], primaryEmailAddress: "user1@contoso.com" });
    const user10 = eset({ identities: [upn("user10@contoso.com")], primaryEmailAddress: "user10@contoso.com" });
    expect(rules(user1, account("CONTOSO\\USER1"))).toEqual(["UPN", "EMAIL"]);
    expect(rules(user1, account("user1"))).toEqual(["BARE_USER_NAME"]);
    expect(rules(user1, account("contoso\\user10"))).toEqual([]);
    expect(rules(user10, account("contoso\\user1"))).toEqual([]);
    expect(rules(user10, account("user1"))).toEqual([]);
    expect(rules(eset({ primaryEmailAddress: "poweruser1@contoso.com" }), account("contoso\\user1"))).toEqual([]);
    expect(rules(user1, account("fabrikam\\user1"))).toEqual([]);
  });

  it("reads accountDomain\\accountName as well as the id, and proxy addresses with Exchange's smtp: prefix", () => {
    const carol = eset({ primaryEmailAddress: "carol.jones@fabrikam.com", proxyEmailAddresses: ["smtp:cjones@fabrikam.com"] });
    expect(matchReasons(carol, account("cjones", "cjones", "fabrikam"))).toEqual([
      { rule: "EMAIL", esetField: "proxyEmailAddresses[0]", esetValue: "cjones@fabrikam.com", defenderValue: "fabrikam\\cjones" },
    ]);
  });

  it("treats EMAIL_ADDRESS identities as e-mail, ignores phone and federated identities, and never links a guest UPN", () => {
    const bob = eset({
      identities: [{ userName: "bob@fabrikam.com", providerReference: "bob@fabrikam.com", providerReferenceFormat: "EMAIL_ADDRESS" }],
    });
    expect(rules(bob, account("fabrikam\\bob"))).toEqual(["EMAIL"]);
    expect(rules(bob, account("bob"))).toEqual([]);
    const phone = eset({ identities: [{ userName: "x\\y", providerReference: null, providerReferenceFormat: "PHONE_NUMBER" }] });
    expect(rules(phone, account("x\\y"))).toEqual([]);
    const guest = eset({ identities: [upn("frank_partner.example#EXT#@contoso.onmicrosoft.com")] });
    expect(rules(guest, account("contoso\\frank_partner.example#ext#"))).toEqual([]);
    expect(defenderCandidates(guest)).toEqual([]);
  });
});

describe("candidates and search terms", () => {
  it("derives Defender ids strongest first: DOMAIN\\user forms, then bare UPN prefixes, without repeats", () => {
    const alice = eset({
      identities: [upn("alice@contoso.com"), userName("CONTOSO\\alice")],
      primaryEmailAddress: "alice@contoso.com",
      proxyEmailAddresses: ["a.example@contoso.onmicrosoft.com"],
    });
    expect(defenderCandidates(alice)).toEqual(["contoso\\alice", "contoso\\a.example", "alice"]);
  });

  it("derives ESET e-mail filter terms from a Defender account: user@domain. and user@", () => {
    expect(esetSearchTerms(account("contoso\\alice", "alice", "contoso"))).toEqual(["alice@contoso."]);
    expect(esetSearchTerms(account("user1"))).toEqual(["user1@"]);
    expect(esetSearchTerms(account("x\\" + "y".repeat(120)))).toEqual([]);
  });

  it("probes a reference as the side it does not come from", () => {
    const byUpn = probeFor("Alice@Contoso.com")!;
    expect(byUpn.defenderCandidates).toEqual(["contoso\\alice", "alice"]);
    expect(byUpn.esetSearchTerms).toEqual(["alice@contoso.com"]);
    expect(byUpn.isEsetMatch(eset({ proxyEmailAddresses: ["ALICE@contoso.com"] }))).toBe(true);
    expect(byUpn.isEsetMatch(eset({ primaryEmailAddress: "xalice@contoso.com" }))).toBe(false);
    const byAccount = probeFor("contoso\\alice")!;
    expect(byAccount.defenderCandidates).toEqual(["contoso\\alice"]);
    expect(byAccount.esetSearchTerms).toEqual(["alice@contoso."]);
    expect(byAccount.isEsetMatch(eset({ primaryEmailAddress: "alice@contoso.com" }))).toBe(true);
    expect(byAccount.isDefenderMatch(account("CONTOSO\\Alice"))).toBe(true);
    expect(probeFor("alice")).toBeUndefined();
  });
});

describe("ALERT_EVIDENCE", () => {
  const proof = accountEvidence([{ accountName: "dmiller", domainName: "CORP", userPrincipalName: "Dave.Miller@northwind.example" }]);
  const dave = eset({ identities: [upn("dave.miller@northwind.example")], primaryEmailAddress: "dave.miller@northwind.example" });
  const dmiller = account("corp\\dmiller", "dmiller", "corp");

  it("links the UPN an alert's User evidence names to its DOMAIN\\user, where the guessing rules cannot: one reason, where it was found first", () => {
    expect(rules(dave, dmiller)).toEqual([]);
    // The same address as an identity and as the primary address is one reason (issue 19: not listed twice).
    expect(matchReasons(dave, dmiller, proof)).toEqual([
      {
        rule: "ALERT_EVIDENCE",
        esetField: "identities[0].userName",
        esetValue: "dave.miller@northwind.example",
        defenderValue: "corp\\dmiller",
      },
    ]);
  });

  it("never links another account, another address, or a substring of the UPN", () => {
    expect(matchReasons(dave, account("corp\\dmiller2"), proof)).toEqual([]);
    expect(matchReasons(eset({ primaryEmailAddress: "miller@northwind.example" }), dmiller, proof)).toEqual([]);
    expect(matchReasons(eset({ primaryEmailAddress: "dave.miller@northwind.example.evil" }), dmiller, proof)).toEqual([]);
  });

  it("keeps only complete, well-formed evidence (no guest UPN, no missing part), without repeats", () => {
    const raw = [
      { accountName: "dmiller", domainName: "CORP", userPrincipalName: "dave.miller@northwind.example" },
      { accountName: "DMILLER", domainName: "corp", userPrincipalName: "DAVE.MILLER@northwind.example" },
      { accountName: "guest", domainName: "CORP", userPrincipalName: "frank_partner.example#EXT#@contoso.onmicrosoft.com" },
      { accountName: "", domainName: "CORP", userPrincipalName: "x@corp.example" },
      { accountName: "a\\b", domainName: "CORP", userPrincipalName: "x@corp.example" },
    ];
    expect(accountEvidence(raw)).toEqual([{ domainUser: "corp\\dmiller", upn: "dave.miller@northwind.example" }]);
  });

  it("turns the evidence into a Defender candidate first and into one ESET search term", () => {
    expect(defenderCandidates(dave, proof)[0]).toBe("corp\\dmiller");
    expect(esetSearchTerms(dmiller, proof)).toEqual(["dave.miller@northwind.example", "dmiller@corp."]);
    const twice = accountEvidence([
      { accountName: "dmiller", domainName: "CORP", userPrincipalName: "dave.miller@northwind.example" },
      { accountName: "dmiller", domainName: "CORP", userPrincipalName: "dm@northwind.example" },
    ]);
    expect(esetSearchTerms(dmiller, twice)).toHaveLength(2);
  });
});
