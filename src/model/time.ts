/** @module model/time: the time formats of the log folder name (UTC) and of detailedoutput.json (local). */

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** RFC 3339, local time with its numeric offset, whole seconds: `2024-03-05T00:09:10-08:00`. */
export function localTimestamp(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

/** `YYYY-MM-DD_HH-MM-SS` in UTC, as in the log folder name `TOE_<this>_UTC-0_<id>`. */
export function folderTimestamp(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `_${pad(date.getUTCHours())}-${pad(date.getUTCMinutes())}-${pad(date.getUTCSeconds())}`
  );
}
