/**
 * One Agent is one Agent however its JSON is written: documents are keyed by the Agent's
 * inverse functional identifier (IFI) alone, as one canonical string. `name` and `objectType`
 * do not take part, nor does the order of keys. `mbox` is lower-cased (as the flat rows do),
 * `mbox_sha1sum` too (hex); `openid` and `account` are kept as sent.
 */
import type { Agent } from "../validateStatement.ts";

/** The canonical IFI of a validated Agent, e.g. `["mbox","mailto:ada@example.com"]`. */
export function agentKey(agent: Agent): string {
  if (agent.mbox !== undefined) return JSON.stringify(["mbox", agent.mbox.toLowerCase()]);
  if (agent.mbox_sha1sum !== undefined)
    return JSON.stringify(["mbox_sha1sum", agent.mbox_sha1sum.toLowerCase()]);
  if (agent.openid !== undefined) return JSON.stringify(["openid", agent.openid]);
  if (agent.account !== undefined)
    return JSON.stringify(["account", agent.account.homePage, agent.account.name]);
  throw new Error("agentKey: the Agent has no IFI (it was not validated)");
}
