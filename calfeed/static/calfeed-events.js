// <calfeed-events>: a calfeed calendar's next events inside a partner's page,
// each event once. It draws in a shadow root, so the page's CSS cannot reach
// the list; the page's font and colours come in through inheritance and the
// --calfeed-* custom properties. Until it has drawn (and for ever, without
// JavaScript or when /events.json cannot be read) the element's own content,
// a link to the calendar, is what shows. Documented in docs/site.md.

const WORDS = {
  it: { none: "Nessun evento in programma.", cancelled: "Annullato", more: "Tutti gli eventi" },
  en: { none: "No upcoming events.", cancelled: "Cancelled", more: "All events" },
};
const DEFAULT_LIMIT = 5;
const MAX_LIMIT = 100;
// The site that serves this script (…/static/calfeed-events.<hash>.js): the default src.
const HOME = new URL("..", import.meta.url).href;

// A constructed sheet: partners' Content-Security-Policy (style-src) does not
// apply to it, as it would to a <style> element. The :host rules are
// !important so that a page's "* { display: none !important }" does not hide
// the element (in the cascade an important rule of the shadow tree beats an
// important rule of the page).
const SHEET = new CSSStyleSheet();
SHEET.replaceSync(`
:host { display: block !important; visibility: visible !important; opacity: 1 !important; content-visibility: visible !important; }
:host([hidden]) { display: none !important; }
.calfeed { font-family: var(--calfeed-font, inherit); font-size: var(--calfeed-font-size, inherit); color: var(--calfeed-text, inherit);
  background: var(--calfeed-background, transparent); line-height: 1.4; text-align: start; text-transform: none; text-indent: 0;
  letter-spacing: normal; word-spacing: normal; white-space: normal; font-style: normal; font-weight: normal; }
ul { list-style: none; margin: 0; padding: 0; }
li { display: block; padding: .5em 0; border-bottom: 1px solid var(--calfeed-border, rgba(128, 128, 128, .35)); }
a { color: var(--calfeed-accent, #0b57d0); }
a:focus-visible { outline: 3px solid var(--calfeed-focus, #f5a623); outline-offset: 2px; }
.title { font-weight: 600; }
.when, .where, .repeats { display: block; font-size: .875em; color: var(--calfeed-muted, inherit); }
.cancelled .title { text-decoration: line-through; }
.badge { font-size: .8em; font-weight: 600; color: var(--calfeed-cancelled, #8b0000); }
.more { display: inline-block; margin-top: .5em; }
`);

function words(lang) {
  return WORDS[lang] || WORDS.en;
}

function values(text) {
  return (text || "").split(/[\s,]+/).filter(Boolean);
}

function instant(text) {
  return new Date(text.length === 10 ? text + "T00:00:00Z" : text);
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// When an event takes place, in the calendar's zone (an all-day date as written).
function when(event, lang, zone) {
  const start = instant(event.start);
  const end = event.end ? instant(event.end) : null;
  const day = new Intl.DateTimeFormat(lang, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: event.all_day ? "UTC" : zone,
  });
  const sameDay = !end || day.format(end) === day.format(start);
  if (event.all_day) {
    return capitalized(sameDay ? day.format(start) : day.formatRange(start, end));
  }
  const clock = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  let text = day.format(start) + ", " + clock.format(start);
  if (end) {
    text += sameDay ? "–" + clock.format(end) : " – " + day.format(end) + ", " + clock.format(end);
  }
  return capitalized(text);
}

function element(name, className, text) {
  const made = document.createElement(name);
  if (className) made.className = className;
  if (text) made.textContent = text;
  return made;
}

class CalfeedEvents extends HTMLElement {
  static observedAttributes = ["src", "category", "place", "limit", "lang"];
  #ticket = 0; // the latest load: an older answer arriving late is dropped

  connectedCallback() {
    this.load();
  }

  attributeChangedCallback() {
    if (this.#ticket) this.load(); // not while upgrading: connectedCallback loads then
  }

  site() {
    const site = new URL(this.getAttribute("src") || HOME, document.baseURI);
    site.pathname = site.pathname.replace(/\/*$/, "/");
    site.search = site.hash = "";
    return site;
  }

  filters() {
    const query = new URLSearchParams();
    for (const name of ["category", "place"]) {
      for (const slug of values(this.getAttribute(name))) query.append(name, slug);
    }
    return query;
  }

  limit() {
    const asked = parseInt(this.getAttribute("limit"), 10);
    return asked >= 1 ? Math.min(asked, MAX_LIMIT) : DEFAULT_LIMIT;
  }

  language() {
    const marked = this.closest("[lang]");
    const lang = (marked ? marked.getAttribute("lang") : "").toLowerCase().split("-")[0];
    return WORDS[lang] ? lang : "en";
  }

  async load() {
    const ticket = ++this.#ticket;
    const site = this.site();
    const address = new URL("events.json", site);
    address.search = this.filters();
    address.searchParams.set("series", "once");
    address.searchParams.set("limit", this.limit());
    let data = null;
    try {
      const reply = await fetch(address, { credentials: "omit", mode: "cors" });
      if (reply.ok) data = await reply.json();
    } catch {
      // unreachable, refused or not JSON: the element's own content shows
    }
    if (ticket !== this.#ticket) return;
    // Made before the shadow root is attached: if making the list fails, the
    // link still shows. A <slot> shows the element's own content: the link.
    const drawn = data && Array.isArray(data.events) ? this.list(site, data) : document.createElement("slot");
    const root = this.shadowRoot || this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [SHEET];
    root.replaceChildren(drawn);
  }

  list(site, data) {
    const lang = this.language();
    const said = words(lang);
    const box = element("div", "calfeed");
    box.lang = lang;
    const list = element("ul");
    for (const event of data.events.slice(0, this.limit())) {
      const item = element("li", event.status === "cancelled" ? "cancelled" : "");
      const date = element("time", "when", when(event, lang, data.timezone));
      date.dateTime = event.start;
      const link = element("a");
      link.href = event.page_url;
      link.append(element("span", "title", event.title));
      item.append(date, link);
      if (event.status === "cancelled") item.append(" ", element("span", "badge", said.cancelled));
      const where = event.place ? event.place.name : event.location;
      if (where) item.append(element("span", "where", where));
      if (event.repeats) item.append(element("span", "repeats", event.repeats[lang] || event.repeats.en));
      list.append(item);
    }
    if (data.events.length) box.append(list);
    else box.append(element("p", "none", said.none));
    const more = element("a", "more", said.more);
    const filters = this.filters().toString();
    more.href = site.href + (filters ? "?" + filters : "");
    box.append(more);
    return box;
  }
}

if (!customElements.get("calfeed-events")) customElements.define("calfeed-events", CalfeedEvents);
