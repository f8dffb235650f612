// IndexedDB for Node: the outbox and the sync state live there, as on the phone.
import 'fake-indexeddb/auto';
