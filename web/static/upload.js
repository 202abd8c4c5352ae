// Upload progress for forms marked data-progress="<progress id>": the file
// is sent with XMLHttpRequest so the bar can follow upload.onprogress, and
// the browser then goes where the server's redirect led (the ingestion
// result). Without JavaScript the form posts normally.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-progress]")) {
    form.addEventListener("submit", (ev) => {
      const bar = document.getElementById(form.dataset.progress);
      if (!bar || typeof FormData === "undefined") return;
      ev.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", () => {
        bar.value = 100;
        if (xhr.status < 400 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
        } else {
          // Show the server's error page as if the form had posted.
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", () => { bar.hidden = true; form.submit(); });
      for (const b of form.querySelectorAll("button")) b.disabled = true;
      xhr.send(new FormData(form));
    });
  }
});
