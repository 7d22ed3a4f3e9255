// Values globalSetup hands to tests with provide/inject.
declare module "vitest" {
  export interface ProvidedContext {
    receiverPort: number;
  }
}
export {};
