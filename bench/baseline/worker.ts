// The benchmark's baseline: an empty Worker on the same wrangler/workerd as the relay. Every
// ClawTalk figure is reported beside this one, the ceiling for any request on this machine.
export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method === "POST") await request.arrayBuffer();
    return new Response('{"ok":true}', { headers: { "Content-Type": "application/json" } });
  },
};
