// The one binding `wrangler types` cannot see in wrangler.toml: the ADMIN_KEY secret.
declare namespace Cloudflare {
  interface Env {
    ADMIN_KEY: string;
  }
}
