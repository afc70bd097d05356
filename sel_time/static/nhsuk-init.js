// NHS.UK frontend 10: mark the page as supported, then start every component on it (the error
// summary takes focus, a success banner takes focus, the header's menu folds on small screens).
// Loaded as a module, so only browsers that NHS.UK frontend supports run it.
import { initAll } from './nhsuk/nhsuk-frontend.min.js';

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
initAll();
