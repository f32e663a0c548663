// A real OpenID Provider (npm oidc-provider, OpenID Certified) standing in for Google in tests.
// Its endpoints sit at Google's paths, so Heimdall's Google login runs unchanged against it
// with only the base URLs configured. Dev interactions accept any username (tests only).
//   PORT=... GOOGLE_CLIENT_ID=... GOOGLE_CLIENT_SECRET=... node google-oidc.mjs
import Provider from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';

const port = Number(process.env.PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.GOOGLE_CLIENT_ID ?? 'heimdall-google-test';
const clientSecret = process.env.GOOGLE_CLIENT_SECRET ?? 'heimdall-google-test-secret';

// A fresh signing key per start: nothing signed by one run verifies in another.
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: `test-${Date.now()}`, alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  jwks: { keys: [signingKey] },
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: (process.env.GOOGLE_REDIRECT_URIS ?? 'http://127.0.0.1/auth/google/callback').split(','),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  routes: {
    authorization: '/o/oauth2/v2/auth',
    token: '/token',
    userinfo: '/v1/userinfo',
    jwks: '/oauth2/v3/certs',
    revocation: '/revoke',
  },
  pkce: { required: () => true },
  // Like Google: the scopes' claims (email, name) are in the ID token itself, not only userinfo.
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
  features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
  // Every login name becomes `<name>@<domain>` with a verified email, like a Google account.
  async findAccount(_ctx, id) {
    const email = id.includes('@') ? id : `${id}@${process.env.GOOGLE_EMAIL_DOMAIN ?? 'gmail.test'}`;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email, email_verified: true, name: id, given_name: id, family_name: 'Test' };
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`google-oidc stand-in listening on ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
