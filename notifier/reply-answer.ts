/**
 * One answer to a person's typed reply, whatever carried it (an SMS, a LINE
 * text): bound to one alert by its code or the person's only open alert —
 * never a guess — then acknowledged or "on my way" through the responder,
 * and the words to send back in the person's language.
 */
import type { Logger } from '../core/logger.js';
import type { Language } from '../core/store.js';
import { replyTexts, type AckReply } from './ack-parser.js';
import type { AlertResponder, ReplyBinding, ResponseChannel, ResponseResult } from './responder.js';

/** Acts on a parsed reply for its binding; returns the text to send back. */
export async function answerReply(o: { responder: AlertResponder; bound: ReplyBinding; parsed: AckReply; via: ResponseChannel; language: Language; logger: Logger }): Promise<string> {
  const { bound, parsed, via } = o;
  const words = replyTexts[o.language];
  const log = o.logger;
  if (bound.kind === 'none') {
    log.info({ route: via, understood: parsed.kind }, 'reply with no open alert for the sender');
    return words.noAlert;
  }
  if (parsed.kind === 'unknown') {
    log.info({ route: via, binding: bound.kind }, 'reply not understood; sent the help text');
    return words.help;
  }
  if (bound.kind === 'ambiguous') {
    log.info({ route: via, open: bound.choices.length }, 'reply without a code while several alerts are open; asked which');
    return words.which(bound.choices);
  }
  if (bound.kind === 'unknown-code') {
    log.info({ route: via, open: bound.choices.length }, 'reply with a code that is none of the sender\'s open alerts');
    return words.unknownCode(bound.code, bound.choices);
  }
  const input = { alertId: bound.alertId, contactId: bound.contactId, via };
  let result: ResponseResult;
  if (parsed.kind === 'acknowledge') result = await o.responder.acknowledge(input);
  else result = await o.responder.onMyWay(parsed.etaMinutes === undefined ? input : { ...input, etaMinutes: parsed.etaMinutes });
  log.info({ route: via, alertId: bound.alertId, action: parsed.kind, ok: result.ok, reason: result.ok ? undefined : result.reason }, 'reply handled');
  if (!result.ok) return result.reason === 'already_resolved' ? words.alreadyResolved : words.refused;
  return parsed.kind === 'acknowledge' ? words.acknowledged : words.onMyWay(parsed.etaMinutes);
}
