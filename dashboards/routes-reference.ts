/**
 * The hub endpoints people and providers may still reach when a reference
 * copy is served in the hub's place (backup/reference.ts): e-mail
 * acknowledgement links, Twilio's SMS / voice / status webhooks and LINE's.
 * The reference hub notifies nobody and changes nothing, so each is answered
 * with the read-only refusal (405 and a page in Japanese and English) rather
 * than a bare "not found" that would leave the sender guessing.
 */
import { MimamoriError } from '../core/errors.js';
import { statusCallbackPath } from './status-page.js';
import { defaultWebhookPaths } from '../notifier/index.js';
import type { RouteModule } from './context.js';

export const referenceRefusals: RouteModule = (app) => {
  const refuse = async (): Promise<never> => { throw new MimamoriError('MIMAMORI_ERR_READ_ONLY', 'alerts cannot be acknowledged on a reference copy; call the people on the emergency contact list / 参照専用のため確認できません。緊急連絡先一覧の順に電話してください'); };
  const config = { access: { roles: 'public' as const } };
  app.get('/ack/*', { config }, refuse);
  app.post('/ack/*', { config }, refuse);
  for (const path of [...Object.values(defaultWebhookPaths), statusCallbackPath, '/line/*']) app.post(path, { config }, refuse);
};
