import { Field, ID, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../../../graphql/scalars";
import { AlertSeverity, AlertStatus } from "./alert.enums";

@ObjectType({ description: "The user an alert is about (Defender relatedUser, read in the object shape the examples show)." })
export class AlertRelatedUser {
  @Field(() => String, { nullable: true, description: 'Account name without the domain, e.g. "alice".' })
  userName!: string | null;

  @Field(() => String, { nullable: true, description: 'Account domain as Defender writes it, e.g. "CONTOSO".' })
  domainName!: string | null;

  // ID, not String (issue 22): it is a DefenderUser.id, what defenderUser(id: ID!) takes. Same wire value.
  @Field(() => ID, {
    nullable: true,
    description:
      'The Defender user id this names, "domain\\user" in lower case (or the bare user name): what DefenderUser.id and defenderUser(id:) take.',
  })
  defenderUserId!: string | null;
}

@ObjectType({ description: "A comment on an alert." })
export class AlertComment {
  @Field(() => String, { nullable: true, description: "The comment's text." })
  comment!: string | null;

  @Field(() => String, { nullable: true, description: "Who wrote it (a UPN)." })
  createdBy!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was written (UTC)." })
  createdTime!: Date | null;
}

@ObjectType({
  description:
    "One piece of evidence of an alert (read with $expand=evidence). Keys that do not apply to the entity type are null. A User item with accountName, domainName and userPrincipalName is Defender's own proof that DOMAIN\\user and the UPN are one person (LinkRule.ALERT_EVIDENCE).",
})
export class AlertEvidence {
  @Field(() => String, { nullable: true, description: 'What the evidence is: "User", "Process", "File", "Url", "Ip", …' })
  entityType!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When the evidence was added to the alert." })
  evidenceCreationTime!: Date | null;

  @Field(() => String, { nullable: true, description: "File or process evidence: the file's SHA-1 hash, in hex." }) sha1!: string | null;
  @Field(() => String, { nullable: true, description: "File or process evidence: the file's SHA-256 hash, in hex." }) sha256!:
    string | null;
  @Field(() => String, { nullable: true, description: 'File or process evidence: the file name, e.g. "powershell.exe".' }) fileName!:
    string | null;
  @Field(() => String, {
    nullable: true,
    description: 'File or process evidence: the folder the file is in, e.g. "C:\\Windows\\System32".',
  })
  filePath!: string | null;
  @Field(() => String, { nullable: true, description: "Process id, as a decimal string." }) processId!: string | null;
  @Field(() => String, { nullable: true, description: "Process evidence: the command line the process ran with." }) processCommandLine!:
    string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "Process evidence: when the process started (UTC)." })
  processCreationTime!: Date | null;
  @Field(() => String, { nullable: true, description: "Parent process id, as a decimal string." }) parentProcessId!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "Process evidence: when the parent process started (UTC)." })
  parentProcessCreationTime!: Date | null;
  @Field(() => String, { nullable: true, description: "Process evidence: the parent process's file name." }) parentProcessFileName!:
    string | null;
  @Field(() => String, { nullable: true, description: "Process evidence: the folder of the parent process's file." })
  parentProcessFilePath!: string | null;
  @Field(() => String, { nullable: true, description: "Ip evidence: the address, IPv4 or IPv6." }) ipAddress!: string | null;
  @Field(() => String, { nullable: true, description: "Url evidence: the URL." }) url!: string | null;
  @Field(() => String, { nullable: true, description: "Registry evidence: the key, without the hive." }) registryKey!: string | null;
  @Field(() => String, { nullable: true, description: 'Registry evidence: the hive, e.g. "HKEY_LOCAL_MACHINE".' }) registryHive!:
    string | null;
  @Field(() => String, {
    nullable: true,
    description: 'Registry evidence: the value\'s type as Defender writes it, e.g. "String", "Dword".',
  })
  registryValueType!: string | null;
  @Field(() => String, { nullable: true, description: "Registry evidence: the value's data, as text." }) registryValue!: string | null;
  @Field(() => String, { nullable: true, description: "User evidence: the account name." }) accountName!: string | null;
  @Field(() => String, { nullable: true, description: "User evidence: the account's domain (NetBIOS name)." }) domainName!: string | null;
  @Field(() => String, { nullable: true, description: "User evidence: the account's SID." }) userSid!: string | null;
  @Field(() => String, { nullable: true, description: "User evidence: the Entra user object id." }) aadUserId!: string | null;
  @Field(() => String, { nullable: true, description: "User evidence: the account's user principal name." }) userPrincipalName!:
    string | null;
  @Field(() => String, { nullable: true, description: 'What Defender did, e.g. "Detected", "Blocked", "Prevented".' }) detectionStatus!:
    string | null;
}

@ObjectType({
  description:
    "A Defender for Endpoint alert (the MDE `alert` entity), with its comments and evidence. Needs the Defender permission Alert.Read.All.",
})
export class DefenderAlert {
  @Field(() => ID, { description: "The alert id." })
  id!: string;

  @Field(() => String, { nullable: true, description: "Alert title." }) title!: string | null;
  @Field(() => String, { nullable: true, description: "Alert description." }) description!: string | null;
  @Field(() => AlertSeverity, { description: "Severity of the alert." }) severity!: AlertSeverity;
  @Field(() => AlertStatus, { description: "Current status of the alert." }) status!: AlertStatus;

  @Field(() => String, {
    nullable: true,
    description: 'Classification: "TruePositive", "Informational, expected activity" or "FalsePositive".',
  })
  classification!: string | null;

  @Field(() => String, { nullable: true, description: 'Determination, e.g. "CompromisedUser", "Malware", "Clean".' })
  determination!: string | null;

  @Field(() => String, { nullable: true, description: 'Category, e.g. "Execution", "Ransomware".' }) category!: string | null;
  @Field(() => String, { nullable: true, description: 'Detection source, e.g. "WindowsDefenderAtp".' }) detectionSource!: string | null;
  @Field(() => String, { nullable: true, description: "Threat family." }) threatFamilyName!: string | null;
  @Field(() => String, { nullable: true, description: "Threat name." }) threatName!: string | null;
  @Field(() => String, { nullable: true, description: "Owner of the alert." }) assignedTo!: string | null;
  @Field(() => String, { nullable: true, description: "Device group name." }) rbacGroupName!: string | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "When the alert was created (UTC)." }) alertCreationTime!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "First occurrence of the event that triggered the alert on that device." })
  firstEventTime!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "Last occurrence of the event that triggered the alert on that device." })
  lastEventTime!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "When the alert was last updated (UTC)." }) lastUpdateTime!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "When the alert was resolved." }) resolvedTime!: Date | null;
  @Field(() => ID, { nullable: true, description: "The incident of the alert: an int64 as an exact decimal string." }) incidentId!:
    string | null;
  @Field(() => ID, { nullable: true, description: "The automated investigation of the alert: an int64 as an exact decimal string." })
  investigationId!: string | null;
  @Field(() => String, { nullable: true, description: 'State of the investigation, e.g. "Running", "Benign".' }) investigationState!:
    string | null;

  @Field(() => [String], {
    description: 'MITRE ATT&CK technique ids, e.g. ["T1059.001"]. Defender\'s table says String; the examples send a list: both are read.',
  })
  mitreTechniques!: string[];

  @Field(() => AlertRelatedUser, { nullable: true, description: "The user the alert is about; null for machine-only alerts." })
  relatedUser!: AlertRelatedUser | null;

  @Field(() => ID, { nullable: true, description: "Id of the machine the alert is on." }) machineId!: string | null;
  @Field(() => String, { nullable: true, description: "Computer name of the machine." }) computerDnsName!: string | null;
  @Field(() => [AlertComment], { description: "Comments on the alert, oldest first as Defender sends them." }) comments!: AlertComment[];

  @Field(() => [AlertEvidence], {
    description:
      "Evidence of the alert. Defender sends it only when asked ($expand=evidence), which usergraph does exactly when this field is selected. The per-user and per-machine alert endpoints have no $expand: there, evidence costs one more alert-list call per 25 alerts (or the relation reads the alert list, when that is cheaper).",
  })
  evidence!: AlertEvidence[];
}
