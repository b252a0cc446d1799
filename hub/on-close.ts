/** Registers a part's close; parts close in reverse order of registration (hub/index.ts). */
export type OnClose = (name: string, close: () => Promise<unknown>) => void;
