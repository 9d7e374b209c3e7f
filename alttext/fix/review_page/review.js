"use strict";
// The review page's editor: decisions per card, keyboard navigation, the full-size viewer and
// "Save alt.json", which downloads the proposals file `alttext apply` reads. Nothing is fetched.
(() => {
  const proposals = JSON.parse(document.getElementById("alttext-proposals").textContent);
  const fullSize = JSON.parse(document.getElementById("alttext-images").textContent);
  const cards = Array.from(document.querySelectorAll("section.card"));
  const editable = cards.filter((card) => card.dataset.entry !== undefined);
  const counter = document.getElementById("counter");
  const savedNote = document.getElementById("saved");
  const LABELS = {accepted: "Accepted", decorative: "Decorative (alt=\"\")", skip: "Skipped: left as it is"};
  const decisions = new Map(); // card -> "accepted" | "decorative" | "skip"; absent: not reviewed
  let unsaved = false; // decisions made since the last save

  const entryOf = (card) => proposals.entries[Number(card.dataset.entry)];
  const fieldOf = (card) => card.querySelector("textarea");

  function show(card) {
    unsaved = true;
    const decision = decisions.get(card);
    card.dataset.status = decision || entryOf(card).status;
    for (const button of card.querySelectorAll("button[data-status]")) {
      button.setAttribute("aria-pressed", String(button.dataset.status === decision));
    }
    card.querySelector(".state").textContent = "Status: " + (decision ? LABELS[decision] : card.dataset.initial);
    const counts = {accepted: 0, decorative: 0, skip: 0};
    for (const value of decisions.values()) counts[value] += 1;
    counter.textContent = `${decisions.size} of ${editable.length} reviewed: ${counts.accepted} accepted, ` +
      `${counts.decorative} decorative, ${counts.skip} skipped`;
  }

  function say(card, text) {
    card.querySelector(".message").textContent = text;
  }

  function decide(card, status) {
    const button = card.querySelector(`button[data-status="${status}"]`);
    if (!button || button.disabled) return false;
    if (status === "accepted" && !fieldOf(card).value.trim()) {
      say(card, "Type the alt text first, or mark the image decorative, or skip it.");
      fieldOf(card).focus();
      return false;
    }
    say(card, "");
    decisions.set(card, status);
    show(card);
    return true;
  }

  function move(from, step) {
    const index = Math.max(0, Math.min(cards.length - 1, cards.indexOf(from) + step));
    // Scrolled by hand: scrollIntoView keeps clear of the sticky toolbar (scroll-padding-top).
    cards[index].focus({preventScroll: true});
    cards[index].scrollIntoView({block: "nearest"});
  }

  for (const card of editable) {
    for (const button of card.querySelectorAll("button[data-status]")) {
      button.addEventListener("click", () => decide(card, button.dataset.status));
    }
    fieldOf(card).addEventListener("input", () => {
      // Typing alt text means accepting it; emptying the field takes the decision back.
      if (fieldOf(card).value.trim()) decisions.set(card, "accepted");
      else if (decisions.get(card) === "accepted") decisions.delete(card);
      say(card, "");
      show(card);
    });
    show(card);
  }
  unsaved = false;
  if (!editable.length) counter.textContent = "Nothing to review.";

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || viewer.open) return;
    const card = event.target.closest ? event.target.closest("section.card") : null;
    if (event.target.tagName === "TEXTAREA") {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        if (decide(card, "accepted")) move(card, 1);
      } else if (event.key === "Escape") {
        event.preventDefault();
        card.focus();
      }
      return;
    }
    // Single-key shortcuts only while a card has focus, and never where text is typed (WCAG 2.1.4).
    if (!card || event.ctrlKey || event.metaKey || event.altKey || /^(INPUT|SELECT)$/.test(event.target.tagName)) return;
    const key = event.key.toLowerCase();
    const actions = {a: "accepted", d: "decorative", s: "skip"};
    if (key === "j" || key === "n") move(card, 1);
    else if (key === "k" || key === "p") move(card, -1);
    else if (key === "e" && fieldOf(card)) fieldOf(card).focus();
    else if (actions[key] && card.dataset.entry !== undefined) {
      if (decide(card, actions[key])) move(card, 1);
    } else return;
    event.preventDefault();
  });

  function reviewedFile() {
    const entries = editable.map((card) => {
      const entry = {...entryOf(card)};
      const decision = decisions.get(card);
      if (decision === "decorative") Object.assign(entry, {status: "decorative", alt: ""});
      else if (decision === "skip") entry.status = "skip";
      else if (decision === "accepted") Object.assign(entry, {status: "accepted", alt: fieldOf(card).value.trim()});
      return entry;
    });
    return {...proposals, entries};
  }

  const save = document.getElementById("save");
  if (save) save.addEventListener("click", () => {
    const file = reviewedFile();
    const blob = new Blob([JSON.stringify(file, null, 2) + "\n"], {type: "application/json"});
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = "alt.json";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    unsaved = false;
    const open = file.entries.filter((entry) => entry.status === "proposed").length;
    const count = file.entries.length;
    savedNote.textContent = `Saved alt.json with ${count} ${count === 1 ? "entry" : "entries"}` +
      (open ? `; ${open} not reviewed are kept as proposed, and alttext apply writes them too.` : ".");
  });

  // Leaving the page with decisions not saved asks first: they live only in this page.
  addEventListener("beforeunload", (event) => {
    if (!unsaved) return;
    event.preventDefault();
    event.returnValue = "";
  });

  const viewer = document.getElementById("viewer");
  const viewerImage = viewer.querySelector("img");
  let opener = null;
  for (const button of document.querySelectorAll("button.zoom")) {
    button.addEventListener("click", () => {
      opener = button;
      viewerImage.src = fullSize[button.dataset.image];
      viewer.querySelector("h2").textContent = button.getAttribute("aria-label");
      viewer.showModal();
    });
  }
  viewer.querySelector("button").addEventListener("click", () => viewer.close());
  viewer.addEventListener("click", (event) => { if (event.target === viewer) viewer.close(); });
  viewer.addEventListener("close", () => {
    viewerImage.removeAttribute("src");
    if (opener) opener.focus();
  });
  document.body.dataset.ready = "yes";
})();
