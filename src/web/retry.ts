/** The page's Retry action is the shared one (`dbswatch retry` uses it too). */
export { type RetryOutcome, retryFailedNotification } from '../notify/retry-failed.js';
