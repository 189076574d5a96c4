// Submits the OAuth form_post response to the client as soon as the page loads.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("form-post");
  if (form) form.submit();
});
