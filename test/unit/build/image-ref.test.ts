import { describe, expect, it } from 'vitest';
import { defaultOutputTag, outputTag, parseRef } from '../../../src/build/image-ref.js';
import { SlimifyError } from '../../../src/errors.js';

describe('image references', () => {
  it('splits registry, repository, tag and digest', () => {
    expect(parseRef('registry:5000/team/app:1.2')).toEqual({ repository: 'registry:5000/team/app', tag: '1.2', digest: undefined });
    expect(parseRef('nginx')).toEqual({ repository: 'nginx', tag: undefined, digest: undefined });
  });

  it('refuses upper case, white space and bad tags with a usage error', () => {
    for (const bad of ['Nginx', 'nginx latest', 'nginx:-x', '']) {
      expect(() => parseRef(bad)).toThrow(SlimifyError);
    }
  });

  it('names the slim image REPO.slim:TAG by default', () => {
    expect(defaultOutputTag('nginx:1.25')).toBe('nginx.slim:1.25');
    expect(defaultOutputTag('registry:5000/app')).toBe('registry:5000/app.slim:latest');
    expect(defaultOutputTag('sha256:4306a708e2bd8f2f9e4b42429c6fda63c32a2ded92bfe8800d09fccaf38d9953')).toBe('slimify-4306a708e2bd.slim:latest');
  });

  it('gives --tag without a tag the tag latest (docker load refuses a bare name)', () => {
    expect(outputTag('bench-nginx.slim', 'nginx')).toBe('bench-nginx.slim:latest');
    expect(outputTag('my/app:v2', 'nginx')).toBe('my/app:v2');
    expect(outputTag(undefined, 'nginx:1.25')).toBe('nginx.slim:1.25');
  });

  it('refuses a --tag with a digest', () => {
    expect(() => outputTag(`app@sha256:${'a'.repeat(64)}`, 'nginx')).toThrow(/cannot have a digest/);
    expect(() => outputTag('App', 'nginx')).toThrow(SlimifyError);
  });
});
