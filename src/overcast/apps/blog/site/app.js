// MyBlog.com in the browser: a small, framework-free client of the blog's API.
//
// Every request goes to this origin (the CDN): the API is under /api, article pages
// under /articles/<slug>, thumbnails under /thumbnails/. Only the photo upload goes
// elsewhere: straight to the photos bucket, with the presigned POST the API hands out.
// Whatever the API returns is put into the page with textContent or through
// setAttribute on attributes that cannot run code, never with innerHTML.

const SESSION = "myblog.user";
const PAGE_WAIT_MS = 15000;
const PHOTO_WAIT_MS = 60000;
const THUMBNAIL = /^\/thumbnails\/[A-Za-z0-9]+\/\d+\.[a-z]+$/;

// --- session and API ------------------------------------------------------------

function session() {
  try {
    const user = JSON.parse(localStorage.getItem(SESSION) || "null");
    return user && typeof user.token === "string" ? user : null;
  } catch {
    return null;
  }
}

function saveSession(user) {
  const kept = { username: user.username, email: user.email, token: user.token };
  localStorage.setItem(SESSION, JSON.stringify(kept));
}

function signOut() {
  localStorage.removeItem(SESSION);
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const user = session();
  if (user) headers.Authorization = `Token ${user.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    return { status: 0, data: null };
  }
  if (response.status === 401 && user) signOut(); // the token expired: sign in again
  let data = null;
  if ((response.headers.get("Content-Type") || "").includes("json")) {
    data = await response.json().catch(() => null);
  }
  return { status: response.status, data };
}

// RealWorld errors are {"errors": {"field": ["message"]}}. Behind the CDN, a 403 or
// 404 from the API arrives as the site's 404 page instead (custom error responses).
function messages(result) {
  const errors = result.data && result.data.errors;
  if (errors && typeof errors === "object") {
    return Object.entries(errors).flatMap(([field, list]) =>
      (Array.isArray(list) ? list : [list]).map((message) => `${field} ${message}`),
    );
  }
  if (result.status === 0) return ["The site cannot be reached. Check your connection and try again."];
  if (result.status === 401) return ["Please sign in again."];
  if (result.status === 403 || result.status === 404) return ["Not found, or not yours to change."];
  return [`Something went wrong (${result.status}). Please try again.`];
}

// --- DOM helpers -------------------------------------------------------------------

function $(id) {
  return document.getElementById(id);
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function say(id, text) {
  const node = $(id);
  if (node) node.textContent = text;
}

function showErrors(list) {
  const node = $("form-errors");
  node.replaceChildren(...list.map((text) => el("li", { text })));
  if (list.length) node.scrollIntoView({ block: "nearest" });
}

function query(name) {
  return new URLSearchParams(location.search).get(name);
}

function articleUrl(slug) {
  return `/articles/${encodeURIComponent(slug)}`;
}

function profileUrl(username) {
  return `/profile.html?u=${encodeURIComponent(username)}`;
}

function tagLink(tag) {
  return el("a", { class: "tag", href: `/tag.html?t=${encodeURIComponent(tag)}`, text: tag });
}

function shownDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

function safeImageUrl(value) {
  try {
    const url = new URL(value, location.origin);
    return url.protocol === "https:" || url.origin === location.origin ? url.href : null;
  } catch {
    return null;
  }
}

function updateNavigation() {
  const user = session();
  document.querySelectorAll("[data-signed-in]").forEach((node) => (node.hidden = !user));
  document.querySelectorAll("[data-signed-out]").forEach((node) => (node.hidden = !!user));
  if (user) $("nav-profile").setAttribute("href", profileUrl(user.username));
}

// --- article lists -------------------------------------------------------------------

function preview(article) {
  const author = article.author.username;
  return el(
    "li",
    { class: "article-preview" },
    el("h3", {}, el("a", { href: articleUrl(article.slug), text: article.title })),
    el("p", { text: article.description }),
    el(
      "p",
      { class: "meta" },
      "By ",
      el("a", { href: profileUrl(author), text: author }),
      " on ",
      el("time", { datetime: article.createdAt, text: shownDate(article.createdAt) }),
    ),
    el("ul", { class: "tag-list", "aria-label": "Tags" }, ...article.tagList.map((t) => el("li", {}, tagLink(t)))),
  );
}

async function listArticles(parameters) {
  const result = await api(`/articles?${new URLSearchParams({ limit: "20", ...parameters })}`);
  if (result.status !== 200) {
    say("articles-status", messages(result).join(" "));
    return;
  }
  const { articles } = result.data;
  $("article-list").replaceChildren(...articles.map(preview));
  say("articles-status", articles.length ? "" : "No articles yet.");
}

// --- pages ---------------------------------------------------------------------------

async function home() {
  listArticles({});
  api("/tags").then((result) => {
    const tags = result.status === 200 ? result.data.tags : [];
    $("tag-list").replaceChildren(...tags.map((tag) => el("li", {}, tagLink(tag))));
  });
  $("subscribe-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const email = $("subscribe-email").value.trim();
    if (!$("subscribe-email").checkValidity() || !email) {
      say("subscribe-status", "Please enter a valid email address.");
      return;
    }
    $("subscribe-submit").disabled = true;
    const result = await api("/subscriptions", { method: "POST", body: { email } });
    $("subscribe-submit").disabled = false;
    if (result.status === 201) say("subscribe-status", `Thank you! A welcome email is on its way to ${email}.`);
    else if (result.status === 200) say("subscribe-status", `${email} is already subscribed.`);
    else say("subscribe-status", messages(result).join(" "));
  });
}

async function profile() {
  const username = query("u") || (session() || {}).username;
  if (!username) {
    say("profile-name", "No such profile");
    say("articles-status", "");
    return;
  }
  say("profile-name", username);
  document.title = `${username} — MyBlog.com`;
  const result = await api(`/profiles/${encodeURIComponent(username)}`);
  if (result.status !== 200) {
    say("profile-bio", "This profile does not exist.");
    say("articles-status", "");
    return;
  }
  const { bio, image } = result.data.profile;
  say("profile-bio", bio || "");
  const source = image ? safeImageUrl(image) : null;
  if (source) {
    $("profile-image").setAttribute("src", source);
    $("profile-image").setAttribute("alt", `${username}'s picture`);
    $("profile-image").hidden = false;
  }
  listArticles({ author: username });
}

function tag() {
  const name = query("t") || "";
  say("tag-name", name);
  document.title = `${name} — MyBlog.com`;
  listArticles({ tag: name });
}

function accountForm(formId, path, fields) {
  $(formId).addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = Object.fromEntries(fields.map((name) => [name, $(`${formId.split("-")[0]}-${name}`).value]));
    const result = await api(path, { method: "POST", body: { user } });
    if (result.status === 200 || result.status === 201) {
      saveSession(result.data.user);
      location.assign("/");
    } else {
      showErrors(messages(result));
    }
  });
}

function article() {
  const node = $("article");
  const slug = node.dataset.slug;
  const user = session();
  const mine = !!user && user.username === node.dataset.author;
  document.querySelectorAll("[data-author-only]").forEach((item) => (item.hidden = !mine));
  $("delete-article").addEventListener("click", async () => {
    if (!confirm("Delete this article? This cannot be undone.")) return;
    const result = await api(`/articles/${encodeURIComponent(slug)}`, { method: "DELETE" });
    if (result.status === 204) location.assign("/");
    else alert(messages(result).join(" "));
  });
  loadComments(slug);
  $("comment-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = $("comment-body").value.trim();
    if (!body) return;
    const path = `/articles/${encodeURIComponent(slug)}/comments`;
    const result = await api(path, { method: "POST", body: { comment: { body } } });
    if (result.status === 201) {
      $("comment-body").value = "";
      say("comment-status", "Your comment is posted.");
      loadComments(slug);
    } else {
      say("comment-status", messages(result).join(" "));
    }
  });
}

async function loadComments(slug) {
  const result = await api(`/articles/${encodeURIComponent(slug)}/comments`);
  if (result.status !== 200) return;
  const user = session();
  $("comment-list").replaceChildren(
    ...result.data.comments.map((comment) => {
      const author = comment.author.username;
      const item = el(
        "li",
        { id: `comment-${comment.id}` },
        el("p", { text: comment.body }),
        el(
          "p",
          { class: "meta" },
          el("a", { href: profileUrl(author), text: author }),
          " on ",
          el("time", { datetime: comment.createdAt, text: shownDate(comment.createdAt) }),
        ),
      );
      if (user && user.username === author) {
        const remove = el("button", { type: "button", class: "link", text: "Delete comment" });
        remove.addEventListener("click", async () => {
          const path = `/articles/${encodeURIComponent(slug)}/comments/${comment.id}`;
          const removed = await api(path, { method: "DELETE" });
          if (removed.status === 204) item.remove();
          else say("comment-status", messages(removed).join(" "));
        });
        item.append(remove);
      }
      return item;
    }),
  );
}

// --- the editor ----------------------------------------------------------------------

async function editor() {
  const slug = query("slug");
  if (slug && session()) {
    say("editor-heading", "Edit article");
    const result = await api(`/articles/${encodeURIComponent(slug)}`);
    if (result.status !== 200) {
      showErrors(messages(result));
      return;
    }
    const current = result.data.article;
    $("article-title-input").value = current.title;
    $("article-description-input").value = current.description;
    $("article-body-input").value = current.body;
    $("article-tags-input").value = current.tagList.join(", ");
    $("editor-submit").textContent = "Update article";
  }
  $("photo-upload").addEventListener("click", () => uploadPhoto().catch(() => say("photo-status", "The upload failed. Please try again.")));
  $("editor-form").addEventListener("submit", (event) => {
    event.preventDefault();
    publish(slug);
  });
}

async function publish(slug) {
  const tags = $("article-tags-input").value.split(",").map((t) => t.trim()).filter(Boolean);
  const article = {
    title: $("article-title-input").value,
    description: $("article-description-input").value,
    body: $("article-body-input").value,
    tagList: [...new Set(tags)],
  };
  $("editor-submit").disabled = true;
  const path = slug ? `/articles/${encodeURIComponent(slug)}` : "/articles";
  const result = await api(path, { method: slug ? "PUT" : "POST", body: { article } });
  if (result.status !== 200 && result.status !== 201) {
    $("editor-submit").disabled = false;
    showErrors(messages(result));
    return;
  }
  showErrors([]);
  const saved = result.data.article;
  say("editor-status", "Saved. Publishing the page…");
  await pageReady(saved.slug, saved.updatedAt);
  location.assign(articleUrl(saved.slug));
}

// The page is rendered from the table's stream a moment after the write: wait until
// the CDN serves this version. "reload" also refreshes the browser's cached copy.
async function pageReady(slug, updatedAt) {
  const marker = `data-updated="${updatedAt}"`;
  const deadline = Date.now() + PAGE_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(articleUrl(slug), { cache: "reload" });
      if (response.ok && (await response.text()).includes(marker)) return true;
    } catch {
      // not there yet
    }
    await sleep(300);
  }
  return false;
}

async function uploadPhoto() {
  const file = $("photo-file").files[0];
  if (!file) {
    say("photo-status", "Choose a photo first.");
    return;
  }
  const alt = $("photo-alt").value.trim() || file.name.replace(/\.[^.]*$/, "");
  $("photo-upload").disabled = true;
  try {
    say("photo-status", "Uploading…");
    const requested = await api("/photos", { method: "POST", body: { content_type: file.type } });
    if (requested.status !== 201) {
      say("photo-status", messages(requested).join(" "));
      return;
    }
    const { id, upload } = requested.data.photo;
    const form = new FormData();
    for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
    form.append("file", file); // S3: the file must be the last field
    const posted = await fetch(upload.url, { method: "POST", body: form });
    if (!posted.ok) {
      say("photo-status", "The photo was refused: it may be too large or not an image.");
      return;
    }
    say("photo-status", "Making thumbnails…");
    const photo = await photoReady(id);
    insertPhoto(photo, alt);
  } finally {
    $("photo-upload").disabled = false;
  }
}

async function photoReady(id) {
  const deadline = Date.now() + PHOTO_WAIT_MS;
  while (Date.now() < deadline) {
    const result = await api(`/photos/${encodeURIComponent(id)}`);
    if (result.status === 200 && result.data.photo.status !== "pending") return result.data.photo;
    await sleep(500);
  }
  return { status: "pending" };
}

function insertPhoto(photo, alt) {
  if (photo.status !== "ready") {
    say("photo-status", photo.status === "rejected" ? `The photo was rejected: ${photo.reason}` : "The photo is taking too long; try again.");
    return;
  }
  const widths = Object.keys(photo.thumbnails).map(Number).sort((a, b) => a - b);
  const source = photo.thumbnails[String(widths[widths.length - 1])];
  if (!THUMBNAIL.test(source)) {
    say("photo-status", "The photo's address is not one the blog makes.");
    return;
  }
  const text = `![${alt.replace(/[\\[\]]/g, "\\$&")}](${source})`;
  const body = $("article-body-input");
  const at = body.selectionEnd ?? body.value.length;
  body.value = `${body.value.slice(0, at)}\n\n${text}\n\n${body.value.slice(at)}`;
  body.focus();
  say("photo-status", "The photo is in the article.");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// --- start ---------------------------------------------------------------------------

const PAGES = {
  home,
  profile,
  tag,
  article,
  editor,
  signin: () => accountForm("signin-form", "/users/login", ["email", "password"]),
  signup: () => accountForm("signup-form", "/users", ["username", "email", "password"]),
};

function start() {
  updateNavigation();
  $("sign-out").addEventListener("click", () => {
    signOut();
    location.assign("/");
  });
  const run = PAGES[document.body.dataset.page];
  if (run) run();
}

start();
