// Values globalSetup hands to tests with provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    receiverPort: number;
    /** The CLI as published (test/support/built-cli-setup.ts). */
    builtCliBin: string;
  }
}
export {};
