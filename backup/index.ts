/**
 * Backups (issue 15), the folder's front door: taking, verifying, rotating
 * and restoring the hub's encrypted archives (backup-and-restore.ts), the
 * archive format (sealed-archive.ts), and the read-only reference copy for
 * the day the hub is down (reference.ts). See docs/backup.md.
 */
export {
  runBackup, restoreArchive, listArchives, rotate, readArchive,
  type BackupManifest, type BackupOptions, type InfluxBackupSource, type RestoreOptions, type RestoreResult,
} from './backup-and-restore.js';
export { openReferenceCopy, type ReferenceCopy } from './reference.js';
export { readPassphrase } from './passphrase.js';
