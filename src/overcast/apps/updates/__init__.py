"""Software update offloading: an existing, unchanged web app serving big update files
(:mod:`.origin`, standing for an EC2 instance), fronted by a CDN distribution
(:mod:`.service`) so that the app sees almost none of the traffic.

The app is deliberately ordinary and knows nothing of Overcast: standard library only,
no ``Cache-Control`` of its own. What makes releases long-lived at the edge and the
manifest short-lived is the distribution's cache policies, as it would be on CloudFront.
"""
