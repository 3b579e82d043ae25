/** The reminder email: subject, text and HTML naming the lesson, and a one-click unsubscribe. */
import type { EmailMessage } from "../mail/emailClient.ts";

export interface ReminderContent {
  to: string;
  learnerName: string;
  lessonTitle: string;
  lessonUrl: string | null;
  unsubscribeUrl: string;
  /** Stable per notification: a resend carries the same Message-ID. */
  notificationId: string;
  /** The host part of Message-IDs. */
  domain: string;
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

export function reminderEmail(content: ReminderContent): EmailMessage {
  const { learnerName, lessonTitle, lessonUrl, unsubscribeUrl } = content;
  const open = lessonUrl ? `Open it here: ${lessonUrl}` : "Open it from your course page.";
  const text = [
    `Hi ${learnerName},`,
    "",
    `today's lesson, "${lessonTitle}", is still waiting for you.`,
    open,
    "",
    `Don't want these reminders? Unsubscribe: ${unsubscribeUrl}`,
    "",
  ].join("\n");
  const link = lessonUrl
    ? `<p><a href="${escapeHtml(lessonUrl)}">Open ${escapeHtml(lessonTitle)}</a></p>`
    : "<p>Open it from your course page.</p>";
  const html = `<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">
<p>Hi ${escapeHtml(learnerName)},</p>
<p>today's lesson, <strong>${escapeHtml(lessonTitle)}</strong>, is still waiting for you.</p>
${link}
<p style="color: #666; font-size: 0.9em">Don't want these reminders? <a href="${escapeHtml(unsubscribeUrl)}">Unsubscribe</a>.</p>
</body></html>`;
  return {
    to: content.to,
    subject: `Reminder: ${lessonTitle}`,
    text,
    html,
    messageId: `<reminder-${content.notificationId}@${content.domain}>`,
    headers: {
      "List-Unsubscribe": `<${unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
  };
}
