/** The CI services `trac-deploy ci` writes pipelines for, and where each looks for one. */
export const CI_PROVIDERS = ['github', 'gitlab'] as const;
export type CiProvider = (typeof CI_PROVIDERS)[number];

/** Where each provider looks for its pipeline, relative to the repository. */
export const CI_DEFAULT_FILES: Record<CiProvider, string> = {
  github: '.github/workflows/trac-deploy.yml',
  gitlab: '.gitlab-ci.yml',
};
