/** The inline styles every email shares (page, card, kind line, title, small print): mail clients drop <style> blocks. */
export const EMAIL_FRAME_STYLES = {
  body: 'margin:0;padding:0;background:#f5f6f8;',
  wrap: 'max-width:560px;margin:0 auto;padding:16px;font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1c2128;',
  card: 'background:#ffffff;border:1px solid #d8dce2;border-radius:12px;padding:16px;',
  kind: 'margin:0;font-size:12px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#59636e;',
  h1: 'margin:4px 0 8px;font-size:20px;line-height:1.3;',
  small: 'font-size:13px;color:#59636e;',
} as const;
