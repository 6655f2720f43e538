/**
 * The end-to-end flows against `npm start`'s stack: the embedded authorization server.
 */
import { embeddedDriver } from './helpers/browser.js';
import { DEV_USERS, e2eSuite } from './helpers/e2eSuite.js';
import { startEmbeddedStack } from './helpers/embedded.js';

e2eSuite('embedded authorization server', async () => {
  const stack = await startEmbeddedStack();
  return {
    ...stack,
    logs: stack.logs,
    users: DEV_USERS,
    driver: embeddedDriver,
    noScopeReauthorization: 'granted',
    ssoSurvivesOfflineAccess: true,
    carolSub: () => 'carol',
    screenshots: true,
  };
});
