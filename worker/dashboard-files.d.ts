// The dashboard's files, imported as text by worker/routes/dashboard.ts (wrangler.toml [[rules]]
// type "Text"): to TypeScript each is a string, whatever its extension.
declare module "../../dashboard/*" {
  const text: string;
  export default text;
}
