// A real OpenID Connect provider for sel-time's single sign-on tests: panva's oidc-provider (an
// OpenID Certified implementation) on loopback, with one confidential client that must use PKCE
// (S256), RP-initiated logout, and test accounts. Its sign-in page is oidc-provider's own
// development interaction (any password; the login names the account).
//
// Configuration comes as JSON in SSO_PROVIDER_CONFIG:
//   {"client_id", "client_secret", "redirect_uris": [...], "post_logout_redirect_uris": [...],
//    "accounts": {"<login>": {"email", "email_verified", "name", "groups": [...]}}}
// It listens on 127.0.0.1 at a free port and prints one line of JSON, {"issuer": "..."}, when
// it is ready.
//
// Misbehaviour, for the refusal tests: POST /__misbehave with {"id_token": "wrong_audience" |
// "wrong_issuer" | "expired" | "wrong_nonce" | null} makes the token endpoint answer with an ID
// token changed that way and signed again with the provider's own key, as a mixed-up or malicious provider
// (or a stale token) would: the signature holds, so only sel-time's claim checks can refuse it.

import { randomBytes } from 'node:crypto';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

const settings = JSON.parse(process.env.SSO_PROVIDER_CONFIG || '{}');
const accounts = settings.accounts || {};

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

let misbehaviour = null;

const page = (title, body) => `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

const configuration = {
  clients: [{
    client_id: settings.client_id,
    client_secret: settings.client_secret,
    client_name: 'sel-time (test)',
    redirect_uris: settings.redirect_uris,
    post_logout_redirect_uris: settings.post_logout_redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingJwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  pkce: { methods: ['S256'], required: () => true },
  // Claims of the requested scopes go into the ID token, as Entra ID puts them.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups'],
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page('Sign out of the test provider?', `${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Signed out of the test provider', '<p>You have signed out.</p>');
      },
    },
  },
  // The client is first-party (like an Entra app with admin consent): no consent screen.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
  findAccount: async (_ctx, id) => {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      claims: async () => ({ sub: id, ...account }),
    };
  },
  ttl: { IdToken: 600, AccessToken: 600, AuthorizationCode: 60, Session: 3600, Interaction: 600 },
};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration);
  provider.on('server_error', (_ctx, error) => console.error('server_error', error));

  provider.use(async (ctx, next) => {
    if (ctx.path === '/__misbehave' && ctx.method === 'POST') {
      const chunks = [];
      for await (const chunk of ctx.req) chunks.push(chunk);
      misbehaviour = JSON.parse(Buffer.concat(chunks).toString() || '{}').id_token || null;
      ctx.body = { id_token: misbehaviour };
      return;
    }
    await next();
    if (ctx.path === '/token' && misbehaviour && ctx.body && ctx.body.id_token) {
      const claims = jose.decodeJwt(ctx.body.id_token);
      const now = Math.floor(Date.now() / 1000);
      if (misbehaviour === 'wrong_audience') claims.aud = 'another-application';
      if (misbehaviour === 'wrong_issuer') claims.iss = 'https://impostor.invalid/tenant/v2.0';
      if (misbehaviour === 'wrong_nonce') claims.nonce = 'a-nonce-from-another-sign-in';
      if (misbehaviour === 'expired') {
        claims.iat = now - 7200;
        claims.exp = now - 3600;
      }
      ctx.body = {
        ...ctx.body,
        id_token: await new jose.SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256', kid: 'test-key', typ: 'JWT' })
          .sign(privateKey),
      };
    }
  });

  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer }));
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
