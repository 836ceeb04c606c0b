import { describe, expect, it } from 'vitest';
import { defangLinks, inertLine, neutralize, printableJson, quoteKey } from '#shared/render/inert-text.ts';

describe('neutralize', () => {
  it('shows every unseen character as U+FFFD: bidi, zero-width, format, C0 and C1 controls', () => {
    const unseen = ['\u202A', '\u202E', '\u2066', '\u2069', '\u200E', '\u200F', '\u061C', '\u200B', '\u200D', '\u2060', '\uFEFF', '\u180E', '\u3164', '\u{E0041}', '\u0000', '\u001B', '\u007F', '\u009B', '\uD800'];
    for (const c of unseen) expect(neutralize(`a${c}b`), JSON.stringify(c)).toBe('a\uFFFDb');
  });

  it('turns every spelling of a line break into \\n in multi-line text and into a space on one line', () => {
    const text = 'a\r\nb\rc\u0085d\u2028e\u2029f\ng\th';
    expect(neutralize(text, { multiline: true })).toBe('a\nb\nc\nd\ne\nf\ng\th');
    expect(neutralize(text)).toBe('a b c d e f g h');
  });

  it('leaves ordinary text, other scripts, emoji and their presentation selectors alone', () => {
    const text = 'Zoë paid 350 € — 返金 ✔️ שלום 👍🏽';
    expect(neutralize(text)).toBe(text);
  });
});

describe('printableJson', () => {
  it('escapes unseen characters inside strings and reads back to the same data', () => {
    const value = { reason: 'ok\u001B[2J\u202Edone\u2028\u0085\u200B\u{E0041}', nested: ['\u007F', 'plain'] };
    const json = printableJson(value, 2);
    // eslint-disable-next-line no-control-regex
    expect(json).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B\u202E\u2028]|\u{E0041}/u);
    expect(json).toContain('"ok\\u001b[2J\\u202edone\\u2028\\u0085\\u200b\\udb40\\udc41"');
    expect(JSON.parse(json)).toEqual(value);
  });
});

describe('quoteKey', () => {
  it('spells look-alike names differently', () => {
    expect(['amount_usd', 'amount\u200B_usd', '\u0430mount_usd', 'amount_usd ', 'a"b'].map(quoteKey)).toEqual([
      '"amount_usd"',
      '"amount\\u200b_usd"',
      '"\\u0430mount_usd"',
      '"amount_usd "',
      '"a\\"b"',
    ]);
  });
});

describe('defangLinks', () => {
  it.each([
    ['see https://example.com/x.', 'see hxxps://example[.]com/x (link, not opened).'],
    ['(http://10.0.0.1:8080/a?b=c#d)', '(hxxp://10[.]0[.]0[.]1:8080/a?b=c#d (link, not opened))'],
    ['ftp://files.example.org/f', 'fxp://files[.]example[.]org/f (link, not opened)'],
    ['ssh://git.example.net/repo', 'ssh[:]//git[.]example[.]net/repo (link, not opened)'],
    ['go to www.example.test now', 'go to www[.]example[.]test (link, not opened) now'],
    ['evil.com, evil.zip/x and a.b.example.io:8443/p', 'evil[.]com (link, not opened), evil[.]zip/x (link, not opened) and a[.]b[.]example[.]io:8443/p (link, not opened)'],
    ['"https://evil.example/x"', '"hxxps://evil[.]example/x (link, not opened)"'],
  ])('%s', (text, shown) => {
    expect(defangLinks(text)).toBe(shown);
  });

  it('leaves addresses, file names, identifiers and numbers alone', () => {
    const text = 'mail jane@example.org about report.pdf, setup.py, crm.update_contact, Node.js, 3.5 kg, evil.community';
    expect(defangLinks(text)).toBe(text);
  });

  it('still catches a link split by an invisible character once that character shows', () => {
    expect(inertLine('ht\u200Btps://evil.com/approve')).toBe('ht\uFFFDtps[:]//evil[.]com/approve (link, not opened)');
  });
});
