/** A plain page for errors the reviewer can read (bad link, not found, bad form). */
import { html } from './html.ts';
import { page } from './layout.ts';

export function renderErrorPage(status: number, title: string, message: string): string {
  return page(
    title,
    html`<section class="card tone-denied" aria-labelledby="error-title">
<p class="kind">Error ${status}</p>
<h1 id="error-title">${title}</h1>
<p>${message}</p>
</section>`,
  );
}
