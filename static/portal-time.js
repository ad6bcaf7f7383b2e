/* Customers have no time zone setting: the portal's times are sent in UTC and shown here in the
   visitor's own zone, in the page's language (the text sent stays as the fallback). */
(function () {
  "use strict";
  function localise() {
    var lang = document.documentElement.lang || undefined;
    var format;
    try { format = new Intl.DateTimeFormat(lang, {dateStyle: "short", timeStyle: "short"}); } catch (e) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("time[data-local][datetime]"), function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      if (isNaN(moment.getTime())) return;
      node.title = node.textContent.trim() + " UTC";
      node.textContent = format.format(moment);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localise); else localise();
}());
