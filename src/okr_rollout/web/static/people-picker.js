// The people picker of the record forms: type part of a name, pick from the suggestions the server finds.
// Without JavaScript the same text field takes names separated by commas, which the server looks up on saving.
(() => {
  "use strict";

  function setUp(picker) {
    const input = picker.querySelector("input[type=text]");
    const list = picker.querySelector(".suggestions");
    const chosen = picker.querySelector(".chosen");
    const name = picker.dataset.name;
    let asked = 0; // the latest question: answers to older ones are dropped
    let timer = null;
    let active = -1;

    function options() {
      return Array.from(list.querySelectorAll("[role=option]"));
    }

    function close() {
      list.hidden = true;
      list.replaceChildren();
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function isChosen(id) {
      return Array.from(chosen.querySelectorAll("input[type=checkbox]")).some((box) => box.value === id);
    }

    function choose(option) {
      const id = option.dataset.id;
      if (!isChosen(id)) {
        const item = document.createElement("li");
        const label = document.createElement("label");
        label.className = "inline";
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = name;
        box.value = id;
        box.checked = true;
        label.append(box, " ", option.dataset.name);
        item.append(label);
        chosen.append(item);
      }
      input.value = "";
      close();
      input.focus();
    }

    function highlight(index) {
      const all = options();
      if (!all.length) return;
      active = (index + all.length) % all.length;
      all.forEach((option, i) => option.setAttribute("aria-selected", i === active ? "true" : "false"));
      input.setAttribute("aria-activedescendant", all[active].id);
    }

    function show(answer) {
      list.replaceChildren();
      answer.items.forEach((person, index) => {
        const option = document.createElement("li");
        option.id = `${input.id}-option-${index}`;
        option.setAttribute("role", "option");
        option.dataset.id = String(person.id);
        option.dataset.name = person.name;
        option.textContent = person.name;
        if (isChosen(String(person.id))) option.classList.add("already");
        option.addEventListener("mousedown", (event) => {
          event.preventDefault(); // keep the focus in the text field
          choose(option);
        });
        list.append(option);
      });
      const note = !answer.items.length ? picker.dataset.none : answer.more ? picker.dataset.more : "";
      if (note) {
        const item = document.createElement("li");
        item.className = "note";
        item.textContent = note;
        list.append(item);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    async function search(text) {
      const question = ++asked;
      const url = new URL(picker.dataset.search, window.location.href);
      url.searchParams.set("q", text);
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok || question !== asked) return;
      const answer = await response.json();
      if (question === asked && input.value.trim() === text) show(answer);
    }

    input.addEventListener("input", () => {
      clearTimeout(timer);
      const text = input.value.trim();
      if (!text || text.includes(",")) {
        asked++;
        close();
        return;
      }
      // A short pause after the last key, so that a fast typist asks once, not once per letter.
      timer = setTimeout(() => search(text), 150);
    });
    input.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight(active + 1);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault(); // pick, do not submit the form
        choose(options()[active]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", () => setTimeout(close, 0));
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-people-picker]").forEach(setUp);
  });
})();
