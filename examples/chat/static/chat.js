// Chat page logic. All user text goes into the page through textContent only, never
// as HTML, so names and messages cannot inject markup or script.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let socket = null;

  function item(parts, cls) {
    const li = document.createElement("li");
    if (cls) li.className = cls;
    for (const [text, partCls] of parts) {
      const span = document.createElement("span");
      if (partCls) span.className = partCls;
      span.textContent = text;
      li.appendChild(span);
    }
    return li;
  }

  // Only the last KEEP messages stay on the page.
  const KEEP = 500;

  function show(node) {  // one item, or several in a DocumentFragment
    const list = $("messages");
    list.appendChild(node);
    while (list.children.length > KEEP) list.removeChild(list.firstChild);
    list.scrollTop = list.scrollHeight;
  }

  function messageItem(m) {
    const when = new Date(m.time * 1000).toLocaleTimeString();
    return item([[when + " ", "time"], [m.name, "who"], [m.text, "text"]]);
  }

  // The history comes in parts (part 0 first, "more" until the last): up to 10,000
  // messages in as many websocket frames.  While they come, the page is redrawn once per
  // animation frame, not once per message or part (a layout each); the last part is drawn
  // at once, so a live message never lands before it.
  let pending = [];
  let drawing = false;

  function draw() {
    drawing = false;
    const items = document.createDocumentFragment();
    pending.forEach((msg) => items.appendChild(messageItem(msg)));
    pending = [];
    show(items);
  }

  function showHistory(m) {
    if (!m.part) {
      $("messages").replaceChildren();
      pending = [];
    }
    pending = pending.concat(m.messages).slice(-KEEP);
    if (!m.more) draw();
    else if (!drawing) {
      drawing = true;
      requestAnimationFrame(draw);
    }
  }

  function setUsers(names) {
    const list = $("users");
    list.replaceChildren(...names.map((n) => item([[n, null]])));
  }

  function status(text) { $("status").textContent = text; }

  function handle(event) {
    let m;
    try { m = JSON.parse(event.data); } catch (e) { return; }
    if (m.type === "history") {
      showHistory(m);
    } else if (m.type === "message") {
      show(messageItem(m));
    } else if (m.type === "join" || m.type === "leave") {
      show(item([[m.name + (m.type === "join" ? " joined" : " left"), null]], "event"));
      setUsers(m.users);
    } else if (m.type === "error") {
      status(m.error);
    }
  }

  function join(event) {
    event.preventDefault();
    const name = $("name").value.trim();
    const room = $("room").value.trim();
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const query = "?room=" + encodeURIComponent(room) + "&name=" + encodeURIComponent(name);
    socket = new WebSocket(scheme + location.host + "/ws" + query);
    socket.addEventListener("message", handle);
    socket.addEventListener("open", () => {
      status("");
      $("join").hidden = true;
      $("chat").hidden = false;
      $("where").textContent = room + " as " + name;
      $("text").focus();
    });
    socket.addEventListener("close", () => {
      $("chat").hidden = true;
      $("join").hidden = false;
      $("where").textContent = "";
      if (!$("status").textContent) status("Disconnected.");
      loadRooms();
    });
  }

  function say(event) {
    event.preventDefault();
    const text = $("text").value;
    if (socket && socket.readyState === WebSocket.OPEN && text.trim()) {
      socket.send(JSON.stringify({ text: text }));
      $("text").value = "";
    }
  }

  async function loadRooms() {
    try {
      const rooms = await (await fetch("/rooms")).json();
      $("rooms").replaceChildren(...rooms.map((r) => item([[r.room + " (" + r.users + ")", null]])));
    } catch (e) { /* the list is a convenience */ }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("join-form").addEventListener("submit", join);
    $("say-form").addEventListener("submit", say);
    loadRooms();
  });
})();
