// Progressive enhancement only: every page works without it. Module scripts run only in
// browsers GOV.UK Frontend supports, so the classes it styles by are set here (the CSP
// allows no inline script to do it earlier).
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
