// posture's one script, allowed by its hash in every page's CSP. Tables sort
// by a click on a header and long ones get a filter box; the box in the
// navigation finds a device by name or id, and the lookup pages show its
// states from the data in the page. It works from files on disk: it fetches
// nothing and only moves between the bundle's own pages.
(function () {
  "use strict";
  var body = document.body;
  var root = body.getAttribute("data-root") || "";

  function cellValue(row, i) {
    var text = row.cells[i] ? row.cells[i].textContent.trim() : "";
    var n = Number(text);
    return text !== "" && !isNaN(n) ? n : text.toLowerCase();
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var tbody = table.tBodies[0];
    table.querySelectorAll("th").forEach(function (th, i) {
      var ascending = true;
      th.addEventListener("click", function () {
        var rows = Array.prototype.slice.call(tbody.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, i), y = cellValue(b, i);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (r) { tbody.appendChild(r); });
        ascending = !ascending;
      });
    });
    var filter = table.previousElementSibling;
    if (filter && filter.classList.contains("filter")) {
      filter.addEventListener("input", function () {
        var needle = filter.value.toLowerCase();
        Array.prototype.forEach.call(tbody.rows, function (r) {
          r.hidden = needle !== "" && r.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    }
  });

  // The finder: every page sends its query to the lookup.
  var finder = document.querySelector("form.find");
  if (finder) {
    finder.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = finder.elements.q.value.trim();
      if (q) location.href = root + "lookup.html?q=" + encodeURIComponent(q);
    });
  }

  var dataBlock = document.getElementById("lookup-data");
  if (!dataBlock) return;
  var data = JSON.parse(dataBlock.textContent);
  var out = document.getElementById("lookup-result");
  var kind = body.getAttribute("data-page");

  // A query's text as names and ids are compared: trimmed, ASCII lower case.
  function normal(text) {
    return text.trim().replace(/[A-Z]/g, function (c) { return c.toLowerCase(); });
  }
  function param(name) {
    var parts = (location.search.slice(1) + "&" + location.hash.slice(1)).split("&");
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (eq > 0 && parts[i].slice(0, eq) === name) {
        try { return decodeURIComponent(parts[i].slice(eq + 1).replace(/\+/g, " ")); } catch (e) { return null; }
      }
    }
    return null;
  }
  function pad(n) { var s = String(n); while (s.length < 4) s = "0" + s; return s; }
  // 32-bit FNV-1a of the UTF-8 bytes, as the report computes it.
  function fnv(text) {
    var bytes = new TextEncoder().encode(text), h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 0x01000193) >>> 0; }
    return h;
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function link(href, text) { var a = el("a", text); a.href = href; return a; }
  function say(text) { out.replaceChildren(el("p", text, "note")); }
  function row(cells, classes) {
    var tr = el("tr");
    cells.forEach(function (c, i) {
      var td = el("td");
      if (c instanceof Node) td.appendChild(c); else if (c !== null) td.textContent = String(c);
      if (classes && classes[i]) td.className = classes[i];
      tr.appendChild(td);
    });
    return tr;
  }

  var q = param("q"), at = param("at");
  if (finder && q) finder.elements.q.value = q;

  if (kind === "lookup") {
    if (!q) return;
    var first = data.first;
    if (!first.length) { say("This bundle has no device."); return; }
    var key = normal(q), lo = 0, hi = first.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (first[mid] <= key) lo = mid; else hi = mid - 1;
    }
    location.replace("lookup/id-" + pad(lo + 1) + ".html#q=" + encodeURIComponent(q));
  } else if (kind === "lookup-ids") {
    if (at !== null && data.devices[Number(at)]) { show(data.devices[Number(at)]); return; }
    var wanted = normal(q || "");
    if (!wanted) return;
    for (var i = 0; i < data.devices.length; i++) {
      if (normal(data.devices[i][0]) === wanted) { show(data.devices[i]); return; }
    }
    location.replace("name-" + pad(fnv(wanted) % data.names + 1) + ".html#q=" + encodeURIComponent(q));
  } else if (kind === "lookup-names") {
    // Entries: [name, id page, place on it].
    var name = normal(q || "");
    if (!name) return;
    var found = data.entries.filter(function (e) { return normal(e[0]) === name; });
    var where = function (e) { return "id-" + pad(e[1]) + ".html#at=" + e[2]; };
    if (found.length === 1) {
      location.replace(where(found[0]));
    } else if (!found.length) {
      say("No device has the name or id “" + q + "”.");
    } else {
      var list = el("ul");
      found.forEach(function (e) {
        var li = el("li");
        li.appendChild(link(where(e), e[0] + " (device " + (e[2] + 1) + " of id page " + e[1] + ")"));
        list.appendChild(li);
      });
      out.replaceChildren(el("p", found.length + " devices are named “" + q + "”:", "note"), list);
    }
  }

  // One device of an id page: [id, name, platform, latest report,
  // compliance, stale, its page, its profile, evidence of failing settings].
  function show(d) {
    var words = data.words, profile = data.profiles[d[7]];
    var evidence = {};
    d[8].forEach(function (e) { evidence[e[0]] = e; });
    var status = d[5] ? "stale" : words[d[4]];
    var heading = el("h2", d[1] || d[0]);
    heading.id = "device";
    var note = el("p", null, "note");
    note.appendChild(document.createTextNode("Device id " + d[0] + " · " + words[d[2]] + " · latest report " + d[3] + " · "));
    note.appendChild(el("b", status, "state-" + status));
    if (d[6]) {
      var number = String(d[6][0]);
      while (number.length < 5) number = "0" + number;
      note.appendChild(document.createTextNode(" · "));
      note.appendChild(link("../devices/page-" + number + ".html#d" + d[6][1], "its page (it needs attention)"));
    }
    var table = el("table");
    table.id = "device-states";
    var head = el("tr");
    ["policy", "policy state", "setting", "setting id", "setting state", "error code", "expected", "actual"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(el("thead")).appendChild(head);
    var tbody = table.appendChild(el("tbody"));
    var policies = profile[0], settings = profile[1];
    for (var p = 0; p < policies.length; p += 2) {
      var policy = data.policies[policies[p]], state = words[policies[p + 1]];
      var name = policy[2] ? link("../" + policy[2], policy[1]) : policy[1];
      tbody.appendChild(row([name, state, null, null, null, null, null, null], [null, "state-" + state]));
      for (var s = 0; s < settings.length; s += 2) {
        var setting = data.settings[settings[s]];
        if (setting[0] !== policies[p]) continue;
        var sState = words[settings[s + 1]], e = evidence[settings[s]] || [];
        tbody.appendChild(row(["", "", setting[2], setting[1], sState, e[1] || "", e[2] || "", e[3] || ""],
          [null, null, null, null, "state-" + sState]));
      }
    }
    var parts = [heading, note];
    if (policies.length) parts.push(table); else parts.push(el("p", "No policy in its latest report.", "note"));
    out.replaceChildren.apply(out, parts);
    document.title = (d[1] || d[0]) + " · " + document.title;
  }
})();
