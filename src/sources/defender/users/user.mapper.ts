import type { DefenderUserDto } from "../dto";
import type { DefenderUser } from "./user.type";
import { bool, date, int, splitList, str } from "../../../graphql/normalize";

const mapped = new WeakMap<DefenderUserDto, DefenderUser>();

/**
 * Defender wire user → DefenderUser. Pure; `@odata.context` is dropped. Memoised by DTO identity: a
 * cached DTO is mapped once, not on every cache hit.
 */
export function toDefenderUser(dto: DefenderUserDto): DefenderUser {
  let user = mapped.get(dto);
  if (user === undefined) mapped.set(dto, (user = map(dto)));
  return user;
}

function map(dto: DefenderUserDto): DefenderUser {
  return {
    id: dto.id,
    accountName: str(dto.accountName),
    accountDomain: str(dto.accountDomain) ?? str(dto.accountDomainName),
    accountSid: str(dto.accountSid),
    firstSeen: date(dto.firstSeen),
    lastSeen: date(dto.lastSeen),
    mostPrevalentMachineId: str(dto.mostPrevalentMachineId),
    leastPrevalentMachineId: str(dto.leastPrevalentMachineId),
    logonTypes: splitList(dto.logonTypes),
    logOnMachinesCount: int(dto.logOnMachinesCount),
    isDomainAdmin: bool(dto.isDomainAdmin),
    isOnlyNetworkUser: bool(dto.isOnlyNetworkUser),
  };
}
