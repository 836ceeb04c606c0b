/**
 * The page shell shared by the review, status and error pages: one inline stylesheet (the respond handler's
 * CSP allows inline styles and nothing else), fluid down to 375 px, large tap targets, light and dark.
 */
import type { Card, Fact } from './card.ts';
import type { BadgeTone } from './headline.ts';
import { html, raw, type HtmlValue, type SafeHtml } from './html.ts';

const STYLE = `
:root{color-scheme:light dark;--fg:#1c2128;--muted:#59636e;--bg:#f5f6f8;--card:#fff;--line:#d8dce2;--ok:#1a7f4b;--no:#b42318;--info:#2459b3;--wait:#9a6700;--ok-bg:#1a7f4b;--no-bg:#b42318;--on-solid:#fff;--danger-bg:#fde8e7;--danger-fg:#8c1d13;--caution-bg:#fff4d6;--caution-fg:#6b4700;--neutral-bg:#eceef1;--neutral-fg:#3b434c;--armed:#fff9e0}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#a0a9b4;--bg:#14171b;--card:#1d2126;--line:#5a636e;--ok:#3fb97a;--no:#f07167;--info:#78a6f0;--wait:#d9a53c;--ok-bg:#166b3f;--no-bg:#a51f15;--danger-bg:#4a1512;--danger-fg:#ffc9c4;--caution-bg:#3d2e05;--caution-fg:#ffe08a;--neutral-bg:#2b3138;--neutral-fg:#d5dae0;--armed:#2e2a14}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:42rem;margin:0 auto;padding:1rem .75rem 2rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1rem 1.1rem;margin:0 0 1rem}
.kind{margin:0;font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted)}
h1{font-size:1.4rem;line-height:1.25;margin:.2rem 0 .5rem}
h2{font-size:1.1rem;margin:0 0 .5rem}
p{margin:.5rem 0}
.muted{color:var(--muted);font-size:.9rem}
dl{display:grid;grid-template-columns:fit-content(8.5rem) 1fr;gap:.4rem 1rem;margin:.75rem 0 0}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.long{white-space:pre-wrap;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.5rem .65rem}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
table{border-collapse:collapse;width:100%;margin:.75rem 0 0}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-top:1px solid var(--line);overflow-wrap:anywhere}
th{font-weight:600;width:35%}
td pre{margin:0;white-space:pre-wrap;font:inherit}
.caption{text-align:left}
.spaced{margin-top:1rem}
ol,ul{padding-left:1.25rem;margin:.5rem 0}
.notice{border-left:4px solid var(--info);background:var(--card);padding:.75rem 1rem;border-radius:8px;margin:0 0 1rem}
.tone-approved{border-left:6px solid var(--ok)}
.tone-denied{border-left:6px solid var(--no)}
.tone-waiting{border-left:6px solid var(--wait)}
.tone-neutral{border-left:6px solid var(--info)}
form{margin:0}
.actions{display:grid;gap:.75rem}
button{font:inherit;font-weight:600;width:100%;min-height:48px;padding:.65rem 1rem;border-radius:10px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;text-align:center}
button.primary{background:var(--ok-bg);border-color:var(--ok-bg);color:var(--on-solid)}
button.danger{background:var(--no-bg);border-color:var(--no-bg);color:var(--on-solid)}
button.primary.irreversible{outline:2px dashed var(--no);outline-offset:2px}
button .detail{display:block;font-weight:400;font-size:.9rem;color:inherit;opacity:.85}
button:focus-visible,summary:focus-visible,input:focus-visible,textarea:focus-visible,select:focus-visible{outline:3px solid var(--info);outline-offset:2px}
details{border:1px solid var(--line);border-radius:10px}
summary{min-height:48px;padding:.7rem 1rem;cursor:pointer;font-weight:600}
details form{padding:0 1rem 1rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
.hint{font-weight:400;color:var(--muted)}
input[type=text],textarea,select{width:100%;font:inherit;padding:.6rem;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--fg)}
textarea{min-height:6rem;resize:vertical;field-sizing:content}
form button{margin-top:.75rem}
footer{color:var(--muted);font-size:.8rem;text-align:center;margin-top:1.5rem}

.head h1{margin:.15rem 0 .35rem}
.badges{display:flex;flex-wrap:wrap;gap:.35rem;margin:.35rem 0;padding:0;list-style:none}
.badge{display:inline-block;font-size:.85rem;font-weight:700;padding:.1rem .55rem;border-radius:999px;border:1px solid currentColor}
.badge-danger{background:var(--danger-bg);color:var(--danger-fg)}
.badge-caution{background:var(--caution-bg);color:var(--caution-fg)}
.badge-neutral{background:var(--neutral-bg);color:var(--neutral-fg)}
.when{margin:.25rem 0 0}
.armed{background:var(--armed);border:2px solid var(--wait);border-radius:10px;padding:.5rem .75rem}
.armed>p{margin:0 0 .25rem;font-weight:600}
fieldset{border:0;margin:.5rem 0 0;padding:0}
legend{font-weight:600;padding:0;margin:.5rem 0 .25rem}
.choice{display:flex;gap:.5rem;align-items:center;min-height:44px;font-weight:400;margin:0}
.choice input{width:1.25rem;height:1.25rem;margin:0}
.skip{position:absolute;left:-999px;top:0;background:var(--card);color:var(--fg);padding:.5rem 1rem;border-radius:8px}
.skip:focus{left:.5rem;top:.5rem;z-index:1}
a{color:var(--info)}
@media (max-width:20rem){dl{grid-template-columns:1fr;gap:.1rem}dt{margin-top:.5rem}th{width:auto}}
`;

export function page(title: string, body: HtmlValue): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.value;
}

export function factList(facts: readonly Fact[]): SafeHtml {
  if (facts.length === 0) return html``;
  return html`<dl>${facts.map((f) => html`<dt>${f.label}</dt><dd${f.long ? raw(' class="long"') : ''}>${f.value}</dd>`)}</dl>`;
}

export function notice(text: string | undefined): SafeHtml {
  return text ? html`<p class="notice" role="alert">${text}</p>` : html``;
}

const BADGE_MARK: Record<BadgeTone, string> = { danger: '⚠ ', caution: '', neutral: '' };

/** Risk badges: colour, a border and the word itself, so colour is never the only signal. */
export function badgeList(card: Card): SafeHtml {
  return html`<ul class="badges" aria-label="Risk">${card.badges.map((b) => html`<li class="badge badge-${b.tone}">${BADGE_MARK[b.tone]}${b.text}</li>`)}</ul>`;
}

/** The compact head: what is asked, the risk, the time box and how long it has waited. */
export function cardHead(card: Card, headingId: string, live = true): SafeHtml {
  return html`<section class="card head" aria-labelledby="${headingId}">
<p class="kind">${card.heading}</p>
<h1 id="${headingId}">${card.title}</h1>
${badgeList(card)}
<p class="muted when">${card.agent}${live ? html` · ${card.timeLeft} · ${card.waiting}` : ''}</p>
</section>`;
}

/**
 * The card itself (or, `asDetails`, the details below a review page's head and controls): heading, lead sentence, facts, the approval's argument table, history, and (when
 * `showOptions`) a disambiguation's options; the review page shows those as answer buttons instead.
 */
export function cardSection(card: Card, headingId: string, showOptions: boolean, asDetails = false): SafeHtml {
  const args = card.args?.length
    ? html`<table><caption class="muted caption">Arguments</caption><tbody>${card.args.map(
        (a) => html`<tr><th scope="row"><code>${a.name}</code></th><td><pre class="mono">${a.display}</pre></td></tr>`,
      )}</tbody></table>`
    : '';
  const history = card.history.length
    ? html`<h2 class="spaced">History</h2><ul>${card.history.map((h) => html`<li>${h}</li>`)}</ul>`
    : '';
  const options =
    showOptions && card.options
      ? html`<h2 class="spaced">Options</h2><ol>${card.options.map((o) => html`<li>${o.label}${o.detail ? html`<br><span class="muted">${o.detail}</span>` : ''}</li>`)}</ol>`
      : '';
  return html`<article class="card" aria-labelledby="${headingId}">
${asDetails ? html`<h2 id="${headingId}">Details</h2>` : html`<h1 id="${headingId}">${card.heading}</h1>${badgeList(card)}`}
<p>${card.lead}</p>
${factList(card.facts)}
${args}
${options}
${history}
</article>`;
}
