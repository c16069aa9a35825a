import { loadConfig } from '@app/config';
import { pageConfigOf, pageContentSecurityPolicy, renderPage, rumIntakeOrigin } from './page-config';

const RUM_ENV = {
  DD_RUM_APPLICATION_ID: 'a1b2c3d4-0000-4000-8000-000000000001',
  DD_RUM_CLIENT_TOKEN: 'pub0123456789abcdef',
};

describe('control room page configuration', () => {
  it('has no RUM unless both variables are set, and refuses one without the other', () => {
    const off = pageConfigOf(loadConfig({ envFile: false, env: { DD_VERSION: '1.2.3' } }));
    expect(off).toEqual({ service: 'llm-reliability-control-plane', env: 'local', version: '1.2.3', rum: null });
    // The page takes no inline style (the app's policy allows them for Swagger UI), and connects to itself only.
    const policy = pageContentSecurityPolicy(off);
    expect(policy).toMatch(/style-src 'self'(;|$)/);
    expect(policy).toContain("connect-src 'self';");
    expect(policy).toContain("frame-ancestors 'none';");
    expect(policy).not.toMatch(/unsafe/);
    expect(() => loadConfig({ envFile: false, env: { DD_RUM_APPLICATION_ID: RUM_ENV.DD_RUM_APPLICATION_ID } })).toThrow(
      /DD_RUM_APPLICATION_ID, DD_RUM_CLIENT_TOKEN: set both/,
    );
  });

  it('hands the page the RUM application, its token and site, with the service, env and version of the backend', () => {
    const config = loadConfig({
      envFile: false,
      env: { ...RUM_ENV, DD_SITE: 'us3.site.localhost', DD_ENV: 'staging' },
    });
    expect(JSON.stringify(config.datadog.rum)).not.toContain(RUM_ENV.DD_RUM_CLIENT_TOKEN);
    const page = pageConfigOf(config);
    expect(page.rum).toEqual({
      applicationId: RUM_ENV.DD_RUM_APPLICATION_ID,
      clientToken: RUM_ENV.DD_RUM_CLIENT_TOKEN,
      site: 'us3.site.localhost',
    });
    expect(page.env).toBe('staging');
  });

  // The SDK's rule (browser-intake- and the site's labels but the last joined with -), on loopback names only.
  it("names the site's RUM intake and lets the page's policy connect to it, and to nothing else but itself", () => {
    expect(rumIntakeOrigin('site.localhost')).toBe('https://browser-intake-site.localhost');
    expect(rumIntakeOrigin('us3.site.localhost')).toBe('https://browser-intake-us3-site.localhost');
    expect(rumIntakeOrigin('EU.Site.localhost')).toBe('https://browser-intake-eu-site.localhost');
    const policy = pageContentSecurityPolicy({
      service: 's',
      env: 'e',
      version: 'v',
      rum: { applicationId: 'x', clientToken: 'y', site: 'site.localhost' },
    });
    expect(policy).toContain("connect-src 'self' https://browser-intake-site.localhost;");
    expect(policy).toContain("script-src 'self';");
    expect(policy).not.toMatch(/unsafe/);
  });

  it('puts the configuration in the page escaped for an attribute', () => {
    const html = renderPage('<meta name="control-room-config" content="__CONTROL_ROOM_CONFIG__" />', {
      service: 'a"b<c>&\'',
      env: 'e',
      version: 'v',
      rum: null,
    });
    expect(html).toBe(
      '<meta name="control-room-config" content="{&quot;service&quot;:&quot;a\\&quot;b&lt;c&gt;&amp;&#39;&quot;,&quot;env&quot;:&quot;e&quot;,&quot;version&quot;:&quot;v&quot;,&quot;rum&quot;:null}" />',
    );
  });

  it("puts a configuration holding $& or $' in the page as written (no replacement pattern)", () => {
    const html = renderPage('<p>__CONTROL_ROOM_CONFIG__</p>', {
      service: "s$&x$'y",
      env: 'e',
      version: '$`',
      rum: null,
    });
    expect(html).toBe(
      '<p>{&quot;service&quot;:&quot;s$&amp;x$&#39;y&quot;,&quot;env&quot;:&quot;e&quot;,&quot;version&quot;:&quot;$`&quot;,&quot;rum&quot;:null}</p>',
    );
  });
});
