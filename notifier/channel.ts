/**
 * The port every notification channel implements (SMS today; voice, e-mail,
 * web push and the home tablet later). The notifier only speaks to channels
 * through this interface, and test/notifier/channel-contract.ts is the suite
 * every implementation must pass.
 */
import type { AddressKind, Contact, ContactAddress } from '../core/store.js';

/**
 * Who a message goes to: a stored contact, or a contact-like recipient that is
 * not in the contacts table (the operator's on-call phone).
 */
export type Recipient = Pick<Contact, 'language'> & Partial<Pick<Contact, 'id' | 'name' | 'phone' | 'email' | 'homeId'>> & {
  /** The contact's addresses (store.listContactAddresses), for channels whose address is not a phone or e-mail column (LINE, push). */
  addresses?: readonly ContactAddress[];
};

export interface ChannelMessage {
  to: Recipient;
  text: string;
  /** The alert this message is about (for provider-side correlation; never sent to the recipient). */
  alertId?: string;
  /** Short subject for channels that have one (e-mail); derived from `text` when absent. */
  subject?: string;
  /** The same text in both languages, for shared screens (the home tablet shows the resident's language first). */
  texts?: { ja: string; en: string };
  /** What the home tablet should show: an alert, or the "are you OK?" prompt asked of the resident first. */
  prompt?: 'alert' | 'are-you-ok';
  /** The alert's reply code (`K27`), for channels with answer buttons (LINE postbacks, push actions). */
  replyCode?: string;
}

/** What a channel knows right after handing a message over. */
export interface SendResult {
  /** The provider's id for the message (Twilio's `SM…` sid), used to match delivery receipts. */
  providerId?: string;
  status: 'sent' | 'queued' | 'failed';
  /** Why it failed, for the notification record and logs: never personal data. */
  error?: string;
}

/** An incoming HTTP request that may carry a delivery receipt (e.g. a Twilio status callback). */
/** What the notifier answers a delivery receipt with (kept here, beside the request, so the receipt route needs no import of the notifier's front door). */
export interface ReceiptResult {
  /** false: not authentic (forged or unsigned) — answer 403. */
  accepted: boolean;
  notificationId?: string;
  status?: string;
}

export interface ReceiptRequest {
  /** The full public URL the provider requested (what it signed). */
  url: string;
  /** The provider's signature header, e.g. `X-Twilio-Signature`. */
  signature: string | undefined;
  /** Decoded form parameters. */
  params: Record<string, string | readonly string[] | undefined>;
}

/** A verified delivery receipt: the provider's later word on a message. */
export interface DeliveryReceipt {
  providerId: string;
  /** The provider's status word (Twilio: queued, sending, sent, delivered, undelivered, failed, …). */
  status: string;
  error?: string;
  /**
   * For calls: who or what the provider reached. Only `reached` (a person
   * answered) counts as reaching someone; `voicemail` (answering-machine
   * detection said machine or fax) never does, whatever the call status.
   */
  outcome?: 'reached' | 'voicemail' | 'no-answer' | 'busy' | 'failed';
}

/** What to look for at the provider: a message handed over (maybe) before a crash. */
export interface SentQuery {
  /** The address it went to, exactly as handed over (E.164 for SMS and voice). */
  to: string;
  /** The text handed over (SMS: must equal the provider's body). */
  text: string;
  /** Clock ms when the send key was written: the message cannot be older. */
  after: number;
  /** Whether a provider id is already attributed to another notification (then it is never a match). */
  taken(providerId: string): Promise<boolean>;
}

/** A message the provider has: its id and its status now, in receipt words (delivered, undelivered, queued, …). */
export interface SentMatch { providerId: string; status: string; error?: string }

export interface Channel {
  /** Stored as the notification's channel, e.g. `sms`. */
  readonly name: string;
  /**
   * The kind of contact address it sends to (`phone` for SMS and voice, `email`, `line`, `push`);
   * absent when the address is the home itself (tablet, live). Fallbacks only pick channels a person has an address for.
   */
  readonly addressKind?: AddressKind;
  /** Reads the message aloud (a call): texts meant to be heard are chosen for it, e.g. the emergency message. */
  readonly spoken?: boolean;
  /**
   * Hands a message to the provider. Never throws for delivery problems
   * (bad number, provider down, timeout): those come back as `failed`.
   */
  send(msg: ChannelMessage): Promise<SendResult>;
  /**
   * Verifies and reads a delivery receipt. Returns `undefined` when the
   * request is not authentic (bad or missing signature) or not a receipt.
   */
  verifyReceipt?(req: ReceiptRequest): DeliveryReceipt | undefined;
  /**
   * Asks the provider whether it already has this message (after a crash
   * inside the send window); `undefined` when it never got one; throws when
   * the provider cannot be asked. Only channels whose provider keeps a queryable
   * record have it (SMS, voice); without it a send is at most once.
   */
  findSent?(q: SentQuery): Promise<SentMatch | undefined>;
  close?(): Promise<void>;
}
