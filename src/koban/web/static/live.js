// Live incident list: one EventSource per tab; on a change, fetch the rows this page shows again
// (koban renders and escapes them) and swap them in, keeping the boxes the person ticked.
(function () {
  "use strict";
  var rows = document.getElementById("incident-rows");
  if (!rows || !window.EventSource || !window.fetch) {
    return;
  }
  var busy = false;
  var again = false;

  function ticked() {
    var ids = {};
    rows.querySelectorAll("input[name=id]:checked").forEach(function (box) {
      ids[box.value] = true;
    });
    return ids;
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "rows");
    url.searchParams.delete("done");
    url.searchParams.delete("failed");
    fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (answer) {
        if (answer.redirected || !answer.ok) {
          window.location.reload(); // signed out, or refused: let the page say so
          return null;
        }
        return answer.text();
      })
      .then(function (html) {
        if (html === null) {
          return;
        }
        var keep = ticked();
        rows.innerHTML = html;
        rows.querySelectorAll("input[name=id]").forEach(function (box) {
          box.checked = Boolean(keep[box.value]);
        });
        rows.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {})
      .finally(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  var source = new EventSource("/incidents/events");
  source.addEventListener("incidents", refresh);
})();
