// One sentence for any failure, in the UI's language.
import { formatIn, formatTime, t } from "./i18n.js";

const KNOWN = new Set([
  "invalid_credentials", "too_many_attempts", "username_taken", "email_taken", "quota_exceeded",
  "llm_timeout", "llm_unavailable", "llm_busy", "llm_error", "llm_misconfigured", "network_error",
  "storage_unavailable", "chat_not_found", "password_required", "too_many_api_keys", "token_reused",
  "invalid_token", "not_authenticated", "last_admin", "account_disabled", "last_login_method",
  "admin_only", "cannot_deactivate_self", "user_not_found",
  "nothing_to_score", "notebook_entry_not_found", "scorecard_not_found",
]);

export function untilText(seconds) {
  const at = new Date(Date.now() + seconds * 1000);
  return t("quota.resets", { time: formatTime(at), in: formatIn(seconds) });
}

export function describeError(error) {
  const code = error && error.code;
  if (code === "quota_exceeded") {
    const seconds = error.retryAfter ?? 0;
    return t("errors.quota_exceeded", { reset: untilText(seconds) });
  }
  if (code === "too_many_attempts" && error.retryAfter) {
    return t("errors.too_many_attempts_wait", { in: formatIn(error.retryAfter) });
  }
  if (KNOWN.has(code)) return t(`errors.${code}`);
  if (code === "validation_error") return `${t("errors.validation_error")} ${error.detail || ""}`.trim();
  return t("errors.generic");
}
