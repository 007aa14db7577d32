// Poll an upload's ingest job and show its progress (runs page).
(function () {
  var el = document.getElementById("job");
  if (!el) return;
  var out = document.getElementById("job-status");
  function poll() {
    fetch("/api/v1/ingest/" + encodeURIComponent(el.dataset.job), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (j.status === "complete") { out.textContent = "完成，刷新页面查看报告"; setTimeout(function () { location.href = "/runs"; }, 1500); return; }
        if (j.status === "failed") { out.textContent = "失败: " + (j.error || ""); return; }
        out.textContent = (j.step || "排队中") + " (" + j.done + "/" + j.total + ")";
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  poll();
})();
