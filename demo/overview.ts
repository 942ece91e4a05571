// The demo's overview page: one index.html per run, a contact sheet with every picture the run
// wrote (linked, each with a caption saying what it shows and how to read its colours), the
// loss's name on every section, and the run's numbers.

/** One picture of the run: its path relative to the output folder, and what it shows. */
export interface OverviewPicture {
  file: string;
  caption: string;
}

/** One loss's section: its title, what it is, its pictures. */
export interface OverviewSection {
  id: string;
  title: string;
  description: string;
  pictures: readonly OverviewPicture[];
}

export interface Overview {
  heading: string;
  /** Lines under the heading (adapter, options, timing). */
  facts: readonly string[];
  /** Pictures about the whole run (curves of every loss side by side). */
  pictures: readonly OverviewPicture[];
  sections: readonly OverviewSection[];
  /** Other files of the run worth a link (summary.json). */
  files: readonly string[];
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function figure({ file, caption }: OverviewPicture): string {
  const href = escapeHtml(file);
  return (
    `<figure><a href="${href}"><img src="${href}" alt="${escapeHtml(caption)}" loading="lazy"></a>` +
    `<figcaption>${escapeHtml(caption)}</figcaption></figure>`
  );
}

/** The page's HTML: self-contained (inline style), relative links only, so the folder can move. */
export function overviewHtml(overview: Overview): string {
  const sections = overview.sections.map(
    (s) =>
      `<section id="${escapeHtml(s.id)}"><h2>${escapeHtml(s.title)}</h2><p>${escapeHtml(s.description)}</p>` +
      `<div class="sheet">${s.pictures.map(figure).join('')}</div></section>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(overview.heading)}</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
  .sheet { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
  figure { margin: 0; width: 232px; }
  figure img { max-width: 100%; border: 1px solid #ddd; image-rendering: pixelated; }
  figure.wide { width: 580px; }
  figcaption { font-size: 13px; color: #444; }
  section { margin-top: 28px; border-top: 1px solid #ddd; }
  nav a { margin-right: 12px; }
</style>
</head>
<body>
<h1>${escapeHtml(overview.heading)}</h1>
${overview.facts.map((f) => `<p>${escapeHtml(f)}</p>`).join('\n')}
<nav>${overview.sections.map((s) => `<a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a>`).join('')}${overview.files
    .map((f) => `<a href="${escapeHtml(f)}">${escapeHtml(f)}</a>`)
    .join('')}</nav>
<div class="sheet">${overview.pictures.map((p) => figure(p).replace('<figure>', '<figure class="wide">')).join('')}</div>
${sections.join('\n')}
</body>
</html>
`;
}
